// The ZKPoT dashboard page: fetches /api/state every second and redraws itself.
// Every value from the chain is put in the page as text (never as HTML).
"use strict";

const WEI = 1e18;
let chartVersion = -1;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key.startsWith("data-")) node.setAttribute(key, String(value));
    else if (value === false) continue;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const eth = (wei) => (Number(wei) / WEI).toFixed(4);
const gas = (value) => (value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"));
const pct = (value) => (value === null || value === undefined ? "–" : value.toFixed(2));
const code = (text) => el("code", {}, text);

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

function renderHeader(s) {
  setText("task-id", s.task.id);
  setText("contract", s.task.contract);
  setText("rpc", s.task.rpc);
  setText("block", s.block);
  setText("updated", new Date(s.node.read_at * 1000).toLocaleTimeString("en-GB"));
  document.title = `ZKPoT task ${s.task.id}: ${s.phase}`;
  const pill = document.getElementById("node-status");
  if (s.node.ok) {
    pill.className = "pill ok";
    pill.textContent = s.task.status === "active" ? "live" : s.task.status;
  } else {
    pill.className = "pill bad";
    pill.textContent = s.node.error;
  }
}

function renderTask(s) {
  const t = s.task;
  const rows = [
    ["status", `${t.status} (${s.phase})`],
    ["publisher", code(t.publisher)],
    ["aggregator", code(t.aggregator)],
    ["verification", t.verification === "optimistic"
      ? `optimistic (${t.dispute_blocks}-block dispute window)` : "immediate (every proof on chain)"],
    ["evaluation", `${t.eval_samples} samples per round, threshold ${t.min_correct} correct (${pct(t.threshold)})`],
    ["rounds", `${t.num_rounds}`],
    ["clients", `${t.clients} registered (at most ${t.max_clients})`],
    ["reward pool", `${t.reward_pool_eth} ETH (${t.reward_pool_left_eth.toFixed(4)} left), leader share ${pct(t.leader_share)}`],
    ["stake", `${t.min_stake_eth} ETH`],
    ["circuit", code(t.circuit_cid)],
    ["global model", code(t.global_model_cid)],
  ];
  document.getElementById("task-terms").replaceChildren(
    ...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

function deadlines(r, block, optimistic) {
  const s = r.schedule;
  const steps = [
    ["commit", s.open_block, s.commit_end],
    ["reveal of the batch", s.commit_end + 1, s.reveal_end],
    ["proofs", s.reveal_end + 1, s.proof_end],
  ];
  if (optimistic) steps.push(["disputes and answers", s.proof_end + 1, s.answer_end]);
  steps.push(["aggregation", s.answer_end + 1, s.aggregate_end]);
  return el("ul", { class: "deadlines" }, steps.map(([name, from, to]) => {
    const where = r.status === "finalised" || block > to ? "past" : block >= from ? "current" : "";
    return el("li", { class: where }, el("span", {}, name),
      el("span", {}, `blocks ${from}–${to}` + (where === "current" ? ` (${to - block} left)` : "")));
  }));
}

function renderNow(s) {
  const now = document.getElementById("now");
  const t = s.task;
  const running = s.rounds.filter((r) => r.status !== "finalised");
  const parts = [];
  if (t.status !== "active") {
    parts.push(el("p", { id: "now-summary" }, el("b", {}, `Task ${t.status}`),
      `: ${s.rounds.filter((r) => r.status === "finalised").length} of ${t.num_rounds} rounds finalised.`));
  }
  for (const r of running) {
    parts.push(el("p", { id: "now-summary", "data-round": r.round },
      el("b", {}, `Round ${r.round} of ${t.num_rounds}`), ` · ${r.phase} · block ${s.block}`));
    parts.push(el("p", {}, `${r.committed} committed · ${r.proved} proved · ` +
      `${r.contributions.length} contributions so far, ${r.accepted_count} accepted` +
      (r.batch_cid ? " · batch revealed" : "")));
    parts.push(deadlines(r, s.block, t.verification === "optimistic"));
  }
  now.replaceChildren(...parts);
}

function renderRecords(s) {
  const box = document.getElementById("records");
  const rec = s.records;
  if (rec === null) {
    box.replaceChildren(el("p", {}, "not checked yet"));
  } else if (rec.ok) {
    box.replaceChildren(
      el("p", { id: "records-status", class: "ok-text", "data-ok": "true", "data-verified-to": rec.verified_to_round },
        `✓ verified from events up to round ${rec.verified_to_round}`),
      el("p", {}, `${rec.records} record${rec.records === 1 ? "" : "s"}, each linked to the one before, re-hashed, ` +
        "matching the contract's stored hashes and the contributions they summarise."),
      el("p", {}, "head ", code(rec.head)));
  } else {
    box.replaceChildren(
      el("p", { id: "records-status", class: "bad-text", "data-ok": "false" }, "✗ the record chain does not hold"),
      el("p", {}, rec.error));
  }
}

function renderChart(s) {
  if (s.chart_version !== chartVersion) {
    chartVersion = s.chart_version;
    document.getElementById("chart").src = `/chart.svg?v=${chartVersion}`;
  }
  const byRound = new Map(s.rounds.filter((r) => r.status === "finalised").map((r) => [r.round, r]));
  const head = [el("th", { class: "num" }, "round")];
  if (s.accuracy.measured) head.push(el("th", { class: "num" }, "global model (measured)"));
  head.push(el("th", { class: "num" }, "leader (verified)"), el("th", { class: "num" }, "mean accepted (verified)"));
  const rows = [];
  for (let n = s.accuracy.measured ? 0 : 1; n <= s.task.num_rounds; n++) {
    const r = byRound.get(n);
    const cells = [el("td", { class: "num" }, n === 0 ? "0 (initial)" : n)];
    if (s.accuracy.measured) {
      const measured = n === 0 ? s.accuracy.initial : r?.global_accuracy;
      cells.push(el("td", { class: "num", "data-measured": measured ?? "" }, pct(measured ?? null)));
    }
    cells.push(el("td", { class: "num" }, pct(r?.leader_accuracy ?? null)),
      el("td", { class: "num" }, pct(r?.mean_accepted_accuracy ?? null)));
    rows.push(el("tr", { "data-round": n }, cells));
  }
  document.getElementById("accuracy-table").replaceChildren(
    el("thead", {}, el("tr", {}, head)), el("tbody", {}, rows));
  setText("accuracy-note", s.accuracy.note);
  const failed = Object.entries(s.accuracy.failed).map(([r, why]) => `round ${r}: ${why}`);
  setText("accuracy-status", [s.accuracy.status ? `measurement: ${s.accuracy.status}` : "", ...failed]
    .filter(Boolean).join(" · "));
}

function contributionRow(r, c) {
  const leader = c.client === r.leader;
  return el("tr", {
    class: c.accepted ? "contribution" : "contribution rejected",
    "data-client": c.client, "data-correct": c.correct, "data-accepted": c.accepted,
    "data-gas": c.gas_used ?? "", "data-reward": c.reward_wei,
  },
  el("td", { class: "mono" }, leader ? el("span", { class: "star", title: "leader" }, "★ ") : "", c.client),
  el("td", { class: "num" }, `${pct(c.accuracy)} (${c.correct}/${r.eval_samples})`),
  el("td", {}, el("span", { class: c.accepted ? "yes" : "no" }, c.accepted ? "yes" : "no")),
  el("td", { class: "num" }, eth(c.reward_wei)),
  el("td", { class: "num" }, gas(c.gas_used)));
}

function renderRound(r, s) {
  const facts = [];
  if (r.leader) {
    facts.push(["leader ", el("b", { class: "mono" }, r.leader),
      ` (${pct(r.leader_accuracy)}), bonus ${eth(r.leader_bonus_wei)} ETH`]);
  } else if (r.status !== "open") {
    facts.push(["no leader (no accepted contribution)"]);
  }
  if (r.status === "finalised") {
    facts.push(["global model ", code(r.global_model_cid || "–"),
      r.global_model_by_aggregator ? " by the aggregator" : " (the previous one kept)"]);
    if (r.global_accuracy !== null) {
      facts.push(["measured accuracy ", el("b", { class: "global-accuracy" }, pct(r.global_accuracy))]);
    }
    facts.push([`close and publish gas ${gas(r.finalisation_gas)}`]);
  }
  facts.push(["batch ", r.batch_cid ? code(r.batch_cid) : "not revealed yet"]);
  const rows = r.contributions.map((c) => contributionRow(r, c));
  return el("article", {
    class: `round ${r.status}`, "data-round": r.round, "data-status": r.status, "data-leader": r.leader ?? "",
    "data-global-accuracy": r.global_accuracy ?? "",
  },
  el("h3", {}, `Round ${r.round}`, el("span", { class: `badge ${r.status}` }, r.phase),
    el("span", { class: "note" }, `${r.committed} committed · ${r.accepted_count} of ${r.contributions.length} accepted` +
      (r.gas_per_contribution ? ` · ${gas(r.gas_per_contribution)} gas per accepted contribution` : ""))),
  el("p", { class: "facts" }, facts.flatMap((part, i) => (i ? [" · ", ...part] : part))),
  rows.length
    ? el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, "client"), el("th", { class: "num" }, "verified accuracy"),
        el("th", {}, "accepted"), el("th", { class: "num" }, "reward ETH"), el("th", { class: "num" }, "gas"))),
      el("tbody", {}, rows))
    : el("p", { class: "note" }, "no contribution yet"));
}

function render(s) {
  renderHeader(s);
  renderTask(s);
  renderNow(s);
  renderRecords(s);
  renderChart(s);
  document.getElementById("rounds").replaceChildren(...s.rounds.slice().reverse().map((r) => renderRound(r, s)));
  document.body.dataset.block = s.block;
  document.body.dataset.taskStatus = s.task.status;
  document.body.dataset.nodeOk = s.node.ok;
}

async function refresh() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (err) {
    const pill = document.getElementById("node-status");
    pill.className = "pill bad";
    pill.textContent = `dashboard not answering (${err.message})`;
  } finally {
    setTimeout(refresh, 1000);
  }
}

refresh();
