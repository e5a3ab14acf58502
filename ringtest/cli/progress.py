"""Progress on long CLI work, on stderr, so stdout stays the result alone.

On a terminal the bar redraws in place and disappears when done; piped or in a
log (no terminal), nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


@contextmanager
def bytes_progress(description: str, total_bytes: int) -> Iterator[Callable[[int], None]]:
    """A bar over `total_bytes`; yields the function to call with each chunk's size."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda size: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total_bytes)
        yield lambda size: progress.advance(task, size)
