"""The inputs of one batch call: which built into requests, which did not, and their positions.

Both adapters build one ``ChatRequest`` per input, keep an input that cannot be built as its
exception (with ``return_exceptions``) or refuse the call naming its position, send the requests
that did build, and put every outcome back at its input's position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from kimi_core.request import ChatRequest

__all__ = ["BatchInputs", "raise_first_error"]

_Item = TypeVar("_Item")
_Outcome = TypeVar("_Outcome")


@dataclass
class BatchInputs:
    """The requests built from a batch call's inputs, and the inputs that could not be built.

    Attributes:
        total: How many inputs the call had.
        requests: The requests that built, in input order.
        positions: The input position of each request.
        failed: The exception of each input that could not be built, by position.
    """

    total: int = 0
    requests: list[ChatRequest] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    failed: dict[int, Exception] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        items: Sequence[_Item],
        build_one: Callable[[_Item], ChatRequest],
        *,
        keep_errors: bool,
    ) -> BatchInputs:
        """Build one request per item (see :meth:`add` and :meth:`refuse`)."""
        inputs = cls(total=len(items))
        for position, item in enumerate(items):
            try:
                request = build_one(item)
            except (ValueError, TypeError) as exc:
                inputs.refuse(position, exc, keep_errors=keep_errors)
            else:
                inputs.add(position, request)
        return inputs

    def add(self, position: int, request: ChatRequest) -> None:
        """Record the request built for the input at ``position``."""
        self.requests.append(request)
        self.positions.append(position)
        self.total = max(self.total, position + 1)

    def refuse(self, position: int, exc: ValueError | TypeError, *, keep_errors: bool) -> None:
        """Keep an input's build error at its position, or raise it naming the position.

        Raises:
            ValueError | TypeError: ``exc``'s type, with the position, unless ``keep_errors``.
        """
        if not keep_errors:
            raise type(exc)(f"batch input {position}: {exc}") from exc
        self.failed[position] = exc
        self.total = max(self.total, position + 1)

    def merge(self, done: Sequence[_Outcome]) -> list[_Outcome | Exception]:
        """The outcomes of the sent requests and the build errors, in input order."""
        merged: list[_Outcome | Exception | None] = [None] * self.total
        for position, exc in self.failed.items():
            merged[position] = exc
        for position, outcome in zip(self.positions, done, strict=True):
            merged[position] = outcome
        return [outcome for outcome in merged if outcome is not None]


def raise_first_error(outcomes: Sequence[object], *, keep_errors: bool) -> None:
    """Raise the first exception among ``outcomes`` unless the caller keeps them in place."""
    if keep_errors:
        return
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
