"""`zkpot dashboard`: a live page of a task, looked at in headless Chromium.

A `zkpot sim` federation (three clients, two rounds, the tiny circuit, real
proofs) runs on its own anvil node; the dashboard process follows it from the
node's JSON-RPC and the content store, and a headless Chromium (Debian's
chromium and chromium-driver, driven by selenium) keeps the page open, without
ever reloading it, while the rounds go by. The page must have updated itself
(round 1 shown finalised while round 2 was still running), and what it finally
shows must be what the chain's events hold, read here with the project's own
event functions.

The screenshot of the final page is saved in the test's directory; with
ZKPOT_DASHBOARD_SCREENSHOT=PATH it is also written to PATH, which is how
docs/dashboard.png is made:

    ZKPOT_DASHBOARD_SCREENSHOT=docs/dashboard.png ./scripts/test.sh tests/test_dashboard.py
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tiny import SIM_ALLOWANCE, TINY_EVAL, TINY_HIDDEN

from zkpot_client.chain.backend import AnvilNode, Chain, dev_accounts, free_port
from zkpot_client.chain.contracts import ZKPoTContract, deploy_verifier
from zkpot_client.chain.events import task_info
from zkpot_client.chain.records import record_hash, verify_record_chain
from zkpot_client.circuit.batches import EvaluationBatch
from zkpot_client.circuit.package import CircuitPackage
from zkpot_client.crypto import weights_from_bytes
from zkpot_client.model import accuracy
from zkpot_client.paths import PROJECT_ROOT
from zkpot_client.storage import LocalDirStore
from zkpot_client.summary import summarise_task
from zkpot_client.types import RoundSummary

ROUNDS = 2
SCREENSHOT_ENV = "ZKPOT_DASHBOARD_SCREENSHOT"

READ_PAGE = """
const rounds = [...document.querySelectorAll("article.round")].map((a) => ({
  round: Number(a.dataset.round),
  status: a.dataset.status,
  leader: a.dataset.leader || null,
  global_accuracy: a.dataset.globalAccuracy === "" ? null : Number(a.dataset.globalAccuracy),
  contributions: [...a.querySelectorAll("tr.contribution")].map((tr) => ({
    client: tr.dataset.client,
    correct: Number(tr.dataset.correct),
    accepted: tr.dataset.accepted === "true",
    gas: tr.dataset.gas === "" ? null : Number(tr.dataset.gas),
    reward: tr.dataset.reward,
    text: tr.textContent,
  })),
}));
const records = document.getElementById("records-status");
return {
  marker: window.zkpotTestMarker || null,
  block: Number(document.body.dataset.block || -1),
  task_status: document.body.dataset.taskStatus || null,
  node_ok: document.body.dataset.nodeOk === "true",
  rounds: rounds,
  records: records === null ? null : {
    ok: records.dataset.ok === "true",
    verified_to: records.dataset.verifiedTo === undefined ? null : Number(records.dataset.verifiedTo),
    text: document.getElementById("records").textContent,
  },
  accuracy_columns: [...document.querySelectorAll("#accuracy-table th")].map((th) => th.textContent),
  accuracy_note: document.getElementById("accuracy-note").textContent,
  chart_loaded: document.getElementById("chart").complete
    && document.getElementById("chart").naturalWidth > 0,
};
"""
"""What a person sees on the page, read from its DOM (every figure is both shown
as text and kept in a data attribute)."""


def zkpot_env() -> dict[str, str]:
    """The environment scripts/test.sh gives the project's commands."""
    return {
        **os.environ,
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "SOLCX_BINARY_PATH": str(PROJECT_ROOT / ".venv" / "solcx"),
    }


def zkpot(*args: str) -> list[str]:
    """The command line of `zkpot ARGS` in this environment."""
    return [sys.executable, "-m", "zkpot_client.cli", *args]


def start_dashboard(*args: str, log: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `zkpot dashboard` on a free loopback port; return it and the page's URL."""
    with open(log, "w") as err:
        proc = subprocess.Popen(
            zkpot("dashboard", *args, "--port", "0"),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=zkpot_env(),
            cwd=PROJECT_ROOT,
        )
    assert proc.stdout is not None
    for line in proc.stdout:  # ends if the process exits
        if line.startswith("dashboard at "):
            return proc, line.removeprefix("dashboard at ").strip()
    proc.wait()
    raise AssertionError(f"the dashboard did not start: {log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def browser() -> Any:
    """Headless Chromium under chromedriver, both Debian's (scripts/setup.sh)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromium-driver: run ./scripts/setup.sh"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # the tests may run as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1200",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def full_page_screenshot(driver: Any, path: Path) -> Path:
    """Save the whole page, not only the window, as a PNG at `path`."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "scale": 1,
                **{k: size[k] for k in ("width", "height")},
            },
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, every: float = 0.5
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class LiveRun:
    """What the page showed during and after a simulation, and what the chain holds."""

    views: list[dict[str, Any]] = field(default_factory=list)
    """The page read every half second while the simulation ran, each with
    `round2_recorded`: whether round 2's record was on chain just after."""
    final: dict[str, Any] = field(default_factory=dict)
    rounds: list[RoundSummary] = field(default_factory=list)
    """Every round, read from events (with gas)."""
    records: int = 0
    head: str = ""
    measured: dict[int, float] = field(default_factory=dict)
    """Round -> its global model's accuracy on its batch, computed here."""
    screenshot: Path | None = None
    without_store: dict[str, Any] = field(default_factory=dict)
    """The final page of a dashboard started without the content store."""


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRun]:
    base = tmp_path_factory.mktemp("dashboard")
    run_dir, result = base / "run", LiveRun()
    with open(base / "sim.log", "w") as log:
        sim = subprocess.Popen(
            zkpot(
                "sim", "--clients", "3", "--rounds", str(ROUNDS),
                "--eval-samples", str(TINY_EVAL), "--hidden", str(TINY_HIDDEN),
                "--slots", "1", "--allowance", str(SIM_ALLOWANCE),
                "--run-dir", str(run_dir), "--json", str(base / "sim.json"),
            ),
            stdout=log, stderr=subprocess.STDOUT, env=zkpot_env(), cwd=PROJECT_ROOT,
        )  # fmt: skip
    dashboard = plain = driver = node = None
    try:
        # `zkpot publish` writes the task's coordinates (node, contract, task) once
        # the task is on chain; the circuit's set-up comes first on a cold cache.
        task_file = run_dir / "task.json"
        wait_for(
            "the simulation's task",
            lambda: task_file.is_file() or sim.poll() is not None,
            timeout=1_200,
        )
        assert task_file.is_file(), (base / "sim.log").read_text()[-3000:]
        where = json.loads(task_file.read_text())
        dashboard, url = start_dashboard(
            "--rpc", where["rpc"], "--contract", where["contract"],
            "--task", str(where["task"]), "--store", str(run_dir / "store"),
            "--poll", "1", log=base / "dashboard.log",
        )  # fmt: skip
        assert url.startswith("http://127.0.0.1:")
        zkpot_contract = ZKPoTContract(Chain.connect(where["rpc"]), where["contract"])
        task_id = int(where["task"])

        driver = browser()
        driver.get(url)
        driver.execute_script("window.zkpotTestMarker = 'first load';")
        deadline = time.monotonic() + 1_800
        while sim.poll() is None:
            assert time.monotonic() < deadline, "the simulation overran"
            view = driver.execute_script(READ_PAGE)
            try:
                recorded = zkpot_contract.record_hash(task_id, 2) != bytes(32)
            except Exception:  # the simulation stops its node as it ends
                recorded = None
            result.views.append({**view, "round2_recorded": recorded})
            time.sleep(0.5)
        assert sim.returncode == 0, (base / "sim.log").read_text()[-3000:]

        # The simulation stopped its node, dumping the chain: the same chain is
        # served again on the same port, and the dashboard carries on reading it.
        node = AnvilNode(
            port=int(where["rpc"].rsplit(":", 1)[1]),
            state=run_dir / "anvil-state.json",
        )
        result.final = wait_for(
            "the page to show the completed task",
            lambda: (
                (v := driver.execute_script(READ_PAGE))["node_ok"]
                and v["task_status"] == "completed"
                and v["records"] is not None
                and v["records"]["verified_to"] == ROUNDS
                and all(r["global_accuracy"] is not None for r in v["rounds"])
                and v["chart_loaded"]
                and v
            ),
            timeout=120,
        )
        time.sleep(2)  # the chart redrawn with the last point
        result.screenshot = full_page_screenshot(driver, base / "dashboard.png")
        if os.environ.get(SCREENSHOT_ENV):
            shutil.copyfile(
                result.screenshot, PROJECT_ROOT / os.environ[SCREENSHOT_ENV]
            )

        zkpot_contract = ZKPoTContract(node.chain, where["contract"])
        task = task_info(zkpot_contract, task_id)
        result.rounds = summarise_task(
            zkpot_contract, task_id, task.eval_samples, with_gas=True
        )
        records = verify_record_chain(zkpot_contract, task_id)
        result.records, result.head = (
            len(records),
            "0x" + record_hash(records[-1]).hex(),
        )
        store = LocalDirStore(run_dir / "store")
        spec = CircuitPackage.from_bytes(store.get(task.circuit_cid)).spec
        for r in result.rounds:
            assert r.global_model_cid and r.batch_cid
            batch = EvaluationBatch.from_bytes(
                store.get(r.batch_cid), features=spec.inputs
            )
            flat = weights_from_bytes(store.get(r.global_model_cid))
            result.measured[r.round] = accuracy(spec, flat, batch.x, batch.y)

        # Without the store (and without --task: the latest task), in the same tab.
        plain, plain_url = start_dashboard(
            "--rpc", where["rpc"], "--contract", where["contract"],
            log=base / "dashboard-without-store.log",
        )  # fmt: skip
        driver.get(plain_url)
        result.without_store = wait_for(
            "the page without the store",
            lambda: (
                (v := driver.execute_script(READ_PAGE))["task_status"] == "completed"
                and v["chart_loaded"]
                and v
            ),
            timeout=60,
        )
        yield result
    finally:
        if driver is not None:
            driver.quit()
        for proc in (plain, dashboard, sim):
            if proc is not None:
                stop(proc)
        if node is not None:
            node.stop()


@pytest.mark.slow
def test_the_page_updated_itself_while_the_rounds_went_by(live_run) -> None:
    views = live_run.views
    assert views, "the simulation ended before the page was read"
    # Never reloaded: the marker set after the first load is still there.
    assert {v["marker"] for v in views} | {live_run.final["marker"]} == {"first load"}
    blocks = [v["block"] for v in views if v["block"] >= 0]
    assert blocks == sorted(blocks) and blocks[-1] - blocks[0] > 30

    def statuses(v: dict[str, Any]) -> dict[int, str]:
        return {r["round"]: r["status"] for r in v["rounds"]}

    # Round 1 in progress, then finalised while round 2 ran (its record not yet on
    # chain, read just after the page), then both finalised.
    first_open = next(
        (i for i, v in enumerate(views) if statuses(v).get(1) == "open"), None
    )
    assert first_open is not None
    between = [
        i
        for i, v in enumerate(views)
        if statuses(v).get(1) == "finalised"
        and statuses(v).get(2) != "finalised"
        and v["round2_recorded"] is False
    ]
    assert between and first_open < between[0]
    assert statuses(live_run.final) == {1: "finalised", 2: "finalised"}


@pytest.mark.slow
def test_the_page_shows_the_rounds_the_events_hold(live_run) -> None:
    page = {r["round"]: r for r in live_run.final["rounds"]}
    assert sorted(page) == [r.round for r in live_run.rounds] == [1, 2]
    for summary in live_run.rounds:
        shown = page[summary.round]
        assert shown["leader"] == summary.leader
        rows = {c["client"]: c for c in shown["contributions"]}
        assert set(rows) == {c.client for c in summary.contributions}
        assert rows  # (a proof that missed its phase leaves a round with fewer)
        for c in summary.contributions:
            row = rows[c.client]
            assert (row["correct"], row["accepted"], row["gas"]) == (
                c.correct,
                c.accepted,
                c.gas_used,
            )
            assert int(row["reward"]) == c.reward_wei
            assert c.gas_used and c.gas_used > 0
            assert (
                c.client in row["text"] and f"({c.correct}/{TINY_EVAL})" in row["text"]
            )


@pytest.mark.slow
def test_the_page_shows_the_checked_record_chain_and_the_global_models(
    live_run,
) -> None:
    records = live_run.final["records"]
    assert records["ok"] and records["verified_to"] == live_run.records - 1 == ROUNDS
    assert live_run.head in records["text"]
    assert live_run.final["accuracy_columns"][1] == "global model (measured)"
    page = {r["round"]: r["global_accuracy"] for r in live_run.final["rounds"]}
    assert page == pytest.approx(live_run.measured)
    assert live_run.final["chart_loaded"]
    assert (
        live_run.screenshot is not None and live_run.screenshot.stat().st_size > 20_000
    )


# ---------------------------------------------------------------- clear errors
def dashboard_fails(*args: str) -> str:
    """Run `zkpot dashboard` expecting it to stop at once with an error; its message."""
    out = subprocess.run(
        zkpot("dashboard", *args, "--port", "0"),
        capture_output=True,
        text=True,
        timeout=120,
        env=zkpot_env(),
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "dashboard at" not in out.stdout
    return out.stderr


@pytest.mark.anvil
def test_an_unreachable_node_or_a_missing_contract_task_or_store_is_a_clear_error(
    anvil_node, tmp_path
) -> None:
    silent = f"http://127.0.0.1:{free_port()}"
    assert "cannot reach an Ethereum node" in dashboard_fails(
        "--rpc", silent, "--contract", dev_accounts(1)[0].address
    )
    nobody = dev_accounts(2)[1].address
    assert f"no contract at {nobody}" in dashboard_fails(
        "--rpc", anvil_node.url, "--contract", nobody
    )
    deployer = dev_accounts(1)[0]
    empty = ZKPoTContract.deploy(
        anvil_node.chain, deployer, deploy_verifier(anvil_node.chain, deployer)
    )
    target = ("--rpc", anvil_node.url, "--contract", empty.address)
    assert f"no task on {empty.address} yet" in dashboard_fails(*target)
    assert "no task 99" in dashboard_fails(*target, "--task", "99")
    missing = tmp_path / "no-store"
    assert f"no content store directory {missing}" in dashboard_fails(
        *target, "--store", str(missing)
    )
    assert not missing.exists()


@pytest.mark.slow
def test_without_the_store_the_chart_shows_what_the_events_hold(live_run) -> None:
    page = live_run.without_store
    assert page["accuracy_columns"] == [
        "round",
        "leader (verified)",
        "mean accepted (verified)",
    ]
    assert "--store" in page["accuracy_note"]
    assert [(r["round"], r["leader"]) for r in reversed(page["rounds"])] == [
        (r.round, r.leader) for r in live_run.rounds
    ]
    assert all(r["global_accuracy"] is None for r in page["rounds"])
