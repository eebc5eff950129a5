"""Fault rules: faults injected by schedule (every n-th request, or with a seeded probability)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

from kimi_emulator.script import Fault

__all__ = ["FaultRules"]


@dataclass
class _Rule:
    fault: Fault
    every: int | None
    probability: float | None
    rng: random.Random
    seen: int = 0

    def fires(self) -> bool:
        self.seen += 1
        if self.every is not None:
            return self.seen % self.every == 0
        assert self.probability is not None
        return self.rng.random() < self.probability


class FaultRules:
    """Standing fault rules applied to chat completion requests (for soak and retry tests)."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._fired: Counter[str] = Counter()

    def every(self, n: int, fault: Fault) -> None:
        """Inject ``fault`` into every ``n``-th chat request (the n-th, 2n-th, ...)."""
        if n < 1:
            raise ValueError(f"every(n=...) needs n >= 1, got {n}")
        with self._lock:
            self._rules.append(_Rule(fault, n, None, random.Random(0)))  # noqa: S311 - unused for every()

    def probability(self, p: float, fault: Fault, *, seed: int = 0) -> None:
        """Inject ``fault`` with probability ``p`` per chat request, reproducibly from ``seed``."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {p}")
        with self._lock:
            self._rules.append(_Rule(fault, None, p, random.Random(seed)))  # noqa: S311 - seeded on purpose

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()
            self._fired.clear()

    def draw(self) -> list[Fault]:
        """The faults that fire for the next chat request."""
        with self._lock:
            fired = [rule.fault for rule in self._rules if rule.fires()]
            self._fired.update(fault.to_header() for fault in fired)
            return fired

    def fired(self) -> dict[str, int]:
        """How often each rule's fault was injected so far, keyed by its header spelling."""
        with self._lock:
            return dict(self._fired)
