"""The handle of a submitted batch job, which survives the process, and its progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kimi_core.batch_lines import TERMINAL_STATUSES, BatchObject

__all__ = ["BatchJob", "BatchPart", "BatchProgress"]

_FORMAT = "kimi-batch-job/1"


@dataclass(frozen=True)
class BatchPart:
    """One batch of a job: its id, input file, model and the job positions its lines carry."""

    batch_id: str
    input_file_id: str
    model: str
    positions: list[int]


@dataclass(frozen=True)
class BatchJob:
    """A job of one or more batches, mapping every ``custom_id`` back to its input position.

    It holds no secret: save it with :meth:`dumps` / :meth:`save`, and collect the results later,
    from any process, with a client of the same account.

    Attributes:
        custom_ids: The ``custom_id`` of each input, in input order.
        parts: The batches the job was split into.
        completion_window: The window every batch was created with.
        metadata: The metadata every batch was created with.
    """

    custom_ids: list[str]
    parts: list[BatchPart]
    completion_window: str
    metadata: dict[str, str] | None = None

    @property
    def batch_ids(self) -> list[str]:
        """The ids of the job's batches."""
        return [part.batch_id for part in self.parts]

    def dumps(self) -> str:
        """The job as JSON."""
        return json.dumps(
            {
                "format": _FORMAT,
                "custom_ids": self.custom_ids,
                "completion_window": self.completion_window,
                "metadata": self.metadata,
                "parts": [
                    {
                        "batch_id": p.batch_id,
                        "input_file_id": p.input_file_id,
                        "model": p.model,
                        "positions": p.positions,
                    }
                    for p in self.parts
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str | bytes) -> BatchJob:
        """A job from :meth:`dumps` output.

        Raises:
            ValueError: Not a saved batch job.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"not a saved Kimi batch job (expected format {_FORMAT!r}).")
        try:
            parts = [
                BatchPart(
                    str(p["batch_id"]),
                    str(p["input_file_id"]),
                    str(p["model"]),
                    [int(i) for i in p["positions"]],
                )
                for p in data["parts"]
            ]
            job = cls(
                custom_ids=[str(c) for c in data["custom_ids"]],
                parts=parts,
                completion_window=str(data["completion_window"]),
                metadata=data.get("metadata"),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a saved Kimi batch job is incomplete: {exc!r}") from None
        covered = sorted(i for p in parts for i in p.positions)
        if covered != list(range(len(job.custom_ids))):
            raise ValueError("a saved Kimi batch job does not cover each input exactly once.")
        return job

    def save(self, path: str | Path) -> None:
        """Write :meth:`dumps` to ``path``."""
        Path(path).write_text(self.dumps(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> BatchJob:
        """Read a job written by :meth:`save`."""
        return cls.loads(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class BatchProgress:
    """Where a job stands, summed over its batches.

    Attributes:
        status: The least advanced status of the job's batches (``completed`` only when every
            batch is); a job with any unfinished batch is not final.
        total: Requests in the job.
        completed: Requests answered so far.
        failed: Requests that failed so far.
        batches: Each batch as last seen.
    """

    status: str
    total: int
    completed: int
    failed: int
    batches: list[BatchObject] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Whether every batch reached a final status."""
        return all(b.status in TERMINAL_STATUSES for b in self.batches)

    @classmethod
    def of(cls, job: BatchJob, batches: Sequence[BatchObject]) -> BatchProgress:
        """Sum the batches of ``job``."""
        return cls(
            status=_overall(batches),
            total=len(job.custom_ids),
            completed=sum(b.completed for b in batches),
            failed=sum(b.failed for b in batches),
            batches=list(batches),
        )


# Statuses from least to most advanced: a job reports its slowest batch.
_ORDER = (
    "validating",
    "in_progress",
    "finalizing",
    "cancelling",
    "failed",
    "expired",
    "cancelled",
    "completed",
)


def _overall(batches: Sequence[BatchObject]) -> str:
    if not batches:
        return "completed"
    rank = {status: i for i, status in enumerate(_ORDER)}
    return min((b.status for b in batches), key=lambda s: rank.get(s, -1))
