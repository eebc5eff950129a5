"""Samples: client CPU (process time), wall time and time spent in the garbage collector."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GcTimer", "Sample", "Series", "growth_exponent", "measure"]


class GcTimer:
    """Adds up the wall time of every garbage collection, via ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = 0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started
            self.collections += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


@dataclass(slots=True)
class Sample:
    """One timed run."""

    cpu: float
    wall: float
    gc: float
    collections: int


@dataclass
class Series:
    """Every sample of one client in one scenario, and what its answers lacked."""

    samples: list[Sample] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    error: str | None = None
    chunks: list[int] = field(default_factory=list)

    def median(self, metric: str) -> float:
        """The median of ``cpu``, ``wall`` or ``gc`` over the samples (nan when none)."""
        values = [getattr(s, metric) for s in self.samples]
        return statistics.median(values) if values else math.nan


def measure(run: Callable[[], Any]) -> tuple[Sample, Any]:
    """Run ``run`` once after a full collection; the sample and what ``run`` returned."""
    gc.collect()
    with GcTimer() as timer:
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        result = run()
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    return Sample(cpu, wall, timer.total, timer.collections), result


def growth_exponent(small: tuple[int, float], large: tuple[int, float]) -> float:
    """k in cost ~ n**k from two (n, cost) points; 1.0 is linear."""
    (n1, c1), (n2, c2) = small, large
    if c1 <= 0 or c2 <= 0 or n1 == n2:
        return math.nan
    return math.log(c2 / c1) / math.log(n2 / n1)
