"""Progress displays for batch jobs: a tqdm (or rich) bar fed by the job's progress callback."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

from kimi_core.batch_job import BatchProgress

__all__ = ["ProgressBar", "ProgressOption", "progress_callback"]

ProgressOption = bool | Callable[[BatchProgress], None] | None
"""``True`` for a progress bar, a callable to receive every :class:`BatchProgress`, or nothing."""


class ProgressBar:
    """A progress bar over a job's finished requests, with the batch status beside it.

    Uses tqdm when installed (``pip install "kimi-core[progress]"``), else rich.

    Raises:
        ImportError: Neither tqdm nor rich is installed.
    """

    def __init__(self, description: str = "Kimi batch") -> None:
        self._description = description
        self._bar: Any = None
        self._rich: Any = None
        self._task: Any = None
        if importlib.util.find_spec("tqdm") is not None:
            self._kind = "tqdm"
        elif importlib.util.find_spec("rich") is not None:
            self._kind = "rich"
        else:
            raise ImportError(
                'a batch progress bar needs tqdm: pip install "kimi-core[progress]" (or pass a '
                "callable as progress)"
            )

    def __call__(self, progress: BatchProgress) -> None:
        """Show ``progress``."""
        finished = progress.completed + progress.failed
        if self._kind == "tqdm":
            if self._bar is None:
                tqdm = importlib.import_module("tqdm").tqdm
                self._bar = tqdm(total=progress.total, desc=self._description, unit="req")
            self._bar.set_postfix_str(f"{progress.status}, {progress.failed} failed")
            self._bar.update(finished - self._bar.n)
            return
        if self._rich is None:
            self._rich = importlib.import_module("rich.progress").Progress()
            self._rich.start()
            self._task = self._rich.add_task(self._description, total=progress.total)
        label = f"{self._description} ({progress.status}, {progress.failed} failed)"
        self._rich.update(self._task, completed=finished, description=label)

    def close(self) -> None:
        """Finish the display."""
        if self._bar is not None:
            self._bar.close()
        if self._rich is not None:
            self._rich.stop()


@contextlib.contextmanager
def progress_callback(option: ProgressOption) -> Iterator[Callable[[BatchProgress], None] | None]:
    """The callback for an adapter's ``progress`` option, closing a bar it opened.

    Raises:
        ImportError: ``True`` without tqdm or rich installed.
    """
    if option is None or option is False:
        yield None
        return
    if callable(option):
        yield option
        return
    bar = ProgressBar()
    try:
        yield bar
    finally:
        bar.close()
