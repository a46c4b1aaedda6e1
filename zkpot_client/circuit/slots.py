"""Prover slots: at most so many provers at once across the processes of a machine.

Proving is CPU-bound and multi-threaded; two provers on a 2-core machine take
longer together than one after the other, and each holds gigabytes. Client
processes that share a slot directory take one of its `slots` file locks
(fcntl, released by the kernel if a prover dies) before proving.

With $ZKPOT_PROVER_SLOTS set to a directory, every proof any zkpot process makes
also takes that directory's one slot: all provers of the machine take turns
(the test suite's parallel workers do).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

MACHINE_SLOTS_ENV = "ZKPOT_PROVER_SLOTS"


def machine_slot_dir() -> Path | None:
    """The machine-wide prover slot directory, $ZKPOT_PROVER_SLOTS (None: unset)."""
    value = os.environ.get(MACHINE_SLOTS_ENV)
    return Path(value) if value else None


def besides_machine_slots(directory: Path | None) -> Path | None:
    """`directory` as a process's own slot directory, or None when it is the
    machine-wide one: every proof takes that slot itself (`prover.prove`), and a
    process holding it while waiting there for a second would wait forever."""
    machine = machine_slot_dir()
    if directory is None or machine is None:
        return directory
    return None if directory.resolve() == machine.resolve() else directory


def default_slots() -> int:
    """One prover per four cores, at least one (one on a 2-core machine)."""
    return max(1, (os.cpu_count() or 1) // 4)


@contextlib.contextmanager
def prover_slot(
    directory: Path | None, slots: int = 1, *, poll_seconds: float = 0.5
) -> Iterator[int]:
    """Hold one of `slots` prover slots in `directory` (none: no limit) while the
    body runs; yields the slot number."""
    if directory is None:
        yield 0
        return
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        for slot in range(slots):
            fd = os.open(directory / f"prover-{slot}.lock", os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield slot
                return
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        time.sleep(poll_seconds)
