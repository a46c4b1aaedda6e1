"""Progress display for long steps (circuit setup, proving)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def long_step(description: str) -> Iterator[None]:
    """Show a spinner and the elapsed time while the body runs.

    The body must leave the GIL free (ezkl work runs in a child process for
    that reason), otherwise the display cannot refresh.
    """
    if not console.is_terminal:
        console.print(f"… {description}")
        yield
        return
    with spinner() as progress:
        progress.add_task(description, total=None)
        yield
    console.print(f"✓ {description}")


def spinner() -> Progress:
    """A one-line spinner with a description and the elapsed time (shown only on a
    terminal; it disappears when done)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def warn(message: str) -> None:
    """Print a warning the user should not miss."""
    console.print(f"[bold yellow]warning:[/] {message}")


def info(message: str) -> None:
    """Print a line of progress."""
    console.print(message)
