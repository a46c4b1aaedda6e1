"""A task kept current in the background: the chain polled, the chart redrawn.

One thread follows the chain (`TaskFollower.poll` every `poll_seconds`); with a
content store, another measures each new global model (`GlobalAccuracy`), which
may first have to set the task's circuit up. Requests read the latest snapshot
and chart under a lock, and never wait for the node.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..chain.backend import TRANSIENT_ERRORS
from .accuracy import FAIRNESS_NOTE, GlobalAccuracy
from .chart import Series, accuracy_chart
from .state import ChainView, TaskFollower, task_json

EVENTS_NOTE = (
    "The chain holds no accuracy of the global model: without --store the chart "
    "shows what the events hold (the leader's verified accuracy and the mean "
    "accepted accuracy on each round's evaluation batch). Start the dashboard "
    "with --store to measure the global model itself."
)


class LiveTask:
    """The dashboard's view of one task, kept current by background threads."""

    def __init__(
        self,
        follower: TaskFollower,
        *,
        accuracy: GlobalAccuracy | None = None,
        poll_seconds: float = 2.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Follow `follower`'s task, polling every `poll_seconds`; with `accuracy`,
        measure the global models too."""
        self.follower = follower
        self.accuracy = accuracy
        self.poll_seconds = poll_seconds
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.new_rounds = threading.Event()
        self.view: ChainView = follower.poll()  # the first read shows errors at once
        self.node_error = ""
        self.failing_since: float | None = None
        self.chart_key: Any = None
        self.chart_svg = b""
        self.chart_version = 0
        self.threads: list[threading.Thread] = []
        self._redraw()

    # ------------------------------------------------------------ threads
    def start(self) -> None:
        """Start following the chain (and measuring global models) in the background."""
        loops = [self._follow_chain]
        if self.accuracy is not None:
            loops.append(self._measure_models)
            self.new_rounds.set()
        for loop in loops:
            thread = threading.Thread(target=loop, name=loop.__name__, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        """Stop the background threads (a measurement under way is finished first)."""
        self.stopping.set()
        self.new_rounds.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def _follow_chain(self) -> None:
        while not self.stopping.wait(self.poll_seconds):
            try:
                view = self.follower.poll()
            except TRANSIENT_ERRORS as exc:
                self._failed(f"the node is not answering ({type(exc).__name__})")
                continue
            except Exception as exc:  # shown on the page; the next poll tries again
                self._failed(f"reading the task failed: {type(exc).__name__}: {exc}")
                continue
            with self.lock:
                before = len(self.view.rounds), self._finalised(self.view)
                self.view = view
                if self.node_error:
                    self.log("the node answers again")
                self.node_error, self.failing_since = "", None
            if (len(view.rounds), self._finalised(view)) != before:
                self.new_rounds.set()
            self._redraw()

    def _failed(self, message: str) -> None:
        with self.lock:
            if message != self.node_error:
                self.log(message)
            self.node_error = message
            self.failing_since = self.failing_since or time.time()

    def _measure_models(self) -> None:
        assert self.accuracy is not None
        _yield_cpu()
        while not self.stopping.is_set():
            self.new_rounds.wait(timeout=max(self.poll_seconds, 5.0))
            self.new_rounds.clear()
            if self.stopping.is_set():
                return
            view = self.view
            try:
                added = self.accuracy.measure(
                    [r.summary for r in view.rounds], self._finalised(view)
                )
            except TRANSIENT_ERRORS:
                continue  # the chain loop reports the outage; measured next time
            except Exception as exc:  # shown on the page; the chart keeps the events
                self.accuracy.status = f"measuring failed: {type(exc).__name__}: {exc}"
                self.log(self.accuracy.status)
                return
            if added:
                self._redraw()

    @staticmethod
    def _finalised(view: ChainView) -> set[int]:
        return {r.summary.round for r in view.rounds if r.finalised}

    # ------------------------------------------------------------ what is shown
    def _series(self) -> list[Series]:
        """The chart's lines: the global model's measured accuracy (with a store)
        and, from events, the leader's and the mean accepted verified accuracy."""
        finalised = [r for r in self.view.rounds if r.finalised]
        rows = [r.to_json(self.follower.task.eval_samples) for r in finalised]
        series = []
        if self.accuracy is not None:
            series.append(
                Series(
                    "global model (measured)",
                    tuple(sorted(self.accuracy.points.items())),
                    colour="C0",
                )
            )
        for key, label, colour in [
            ("leader_accuracy", "leader (verified)", "C1"),
            ("mean_accepted_accuracy", "mean accepted (verified)", "C2"),
        ]:
            points = tuple(
                (row["round"], row[key]) for row in rows if row[key] is not None
            )
            series.append(Series(label, points, style="--", colour=colour))
        return series

    def _redraw(self) -> None:
        """Draw the chart again if its lines changed."""
        with self.lock:
            series = self._series()
            key = tuple(series)
            if key == self.chart_key:
                return
            task = self.follower.task
            self.chart_svg = accuracy_chart(
                series,
                threshold=task.min_correct / task.eval_samples,
                rounds=task.num_rounds,
            )
            self.chart_key = key
            self.chart_version += 1

    def chart(self) -> bytes:
        """The latest chart (SVG)."""
        with self.lock:
            return self.chart_svg

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data."""
        with self.lock:
            view, task = self.view, self.follower.task
            measured = dict(self.accuracy.points) if self.accuracy else {}
            rounds = []
            for r in view.rounds:
                row = r.to_json(task.eval_samples)
                row["global_accuracy"] = measured.get(r.summary.round)
                rounds.append(row)
            return {
                "task": task_json(self.follower.zkpot, task, view.state),
                "block": view.block,
                "phase": view.phase,
                "rounds": rounds,
                "records": None if view.records is None else view.records.to_json(),
                "accuracy": self._accuracy_json(measured),
                "node": {
                    "ok": not self.node_error,
                    "error": self.node_error,
                    "failing_since": self.failing_since,
                    "read_at": view.read_at,
                },
                "chart_version": self.chart_version,
                "poll_seconds": self.poll_seconds,
            }

    def _accuracy_json(self, measured: dict[int, float]) -> dict[str, Any]:
        if self.accuracy is None:
            return {"measured": False, "note": EVENTS_NOTE, "status": "", "failed": {}}
        return {
            "measured": True,
            "note": FAIRNESS_NOTE,
            "status": self.accuracy.status,
            "initial": measured.get(0),
            "failed": {str(r): why for r, why in self.accuracy.failed.items()},
        }


def _yield_cpu(niceness: int = 10) -> None:
    """Lower this thread's scheduling priority, and that of the processes it starts
    (Linux keeps a niceness per thread): measuring models is background work that
    yields the CPU to a node and roles on the same machine."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not allowed: full priority
        pass
