"""Online Kimi calls at cluster scale: `ChatKimi` inside Ray actors, one client per actor.

Shows: a dataset of support tickets cut into chunks and spread over a pool of Ray actors
(`ray.util.ActorPool`). Each actor builds one `ChatKimi` when it starts (one connection pool per
process, reused for every call) and answers its chunk with `model.batch(...)` under
`max_concurrency`, so the load on Kimi is bounded by actors x concurrency, whatever the dataset
size. kimi-core's retry layer runs inside each call (429 overloaded / 5xx / connection errors,
backoff honouring `Retry-After`); the actors count the retries it logged. Answers come back in
dataset order. The same code runs on a cluster: `ray.init(address="auto")`.

Use the Batch API instead when nobody waits for the answers (60 % of the price, see the Large jobs
guide); Ray is for online work that outgrows one machine.

The API key reaches the actors through the environment of the processes Ray starts (set
MOONSHOT_API_KEY on every node), never through actor arguments or `runtime_env`, which Ray records.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group ray python examples/ray/ray_online.py

Without a key it runs against an embedded kimi-emulator on a local Ray instance (`nox -s ray`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import ray
from ray.util import ActorPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/_kimi_endpoint.py

from _kimi_endpoint import kimi_endpoint


class _RetryCounter(logging.Handler):
    """Counts kimi-core's "retrying in ..." log records."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying in"):
            self.retries += 1


@ray.remote(num_cpus=0)  # waiting on HTTP, not computing: do not reserve a CPU per actor
class KimiWorker:
    """One `ChatKimi` (one client and connection pool) per actor process."""

    def __init__(self, max_concurrency: int, max_retries: int) -> None:
        from langchain_kimi import ChatKimi

        self.model = ChatKimi(model="kimi-k2.6", thinking=False, max_retries=max_retries)
        self.max_concurrency = max_concurrency
        self.counter = _RetryCounter()
        core_logger = logging.getLogger("kimi_core")
        core_logger.setLevel(logging.INFO)
        core_logger.addHandler(self.counter)

    def answer(self, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        prompts = [f"Say exactly: ticket {row['id']} is about {row['topic']}" for row in chunk]
        replies = self.model.batch(
            prompts, config={"max_concurrency": self.max_concurrency}, return_exceptions=True
        )
        return [
            {
                "id": row["id"],
                "answer": None if isinstance(reply, Exception) else reply.content,
                "error": repr(reply) if isinstance(reply, Exception) else None,
                "tokens": None if isinstance(reply, Exception) else reply.usage_metadata,
            }
            for row, reply in zip(chunk, replies, strict=True)
        ]

    def retries(self) -> int:
        return self.counter.retries


def process(
    rows: list[dict[str, Any]],
    *,
    actors: int = 2,
    max_concurrency: int = 4,
    max_retries: int = 3,
    chunk_size: int = 25,
) -> tuple[list[dict[str, Any]], int]:
    """Answer every row on a pool of actors; the results in row order and the retries made."""
    workers = [KimiWorker.remote(max_concurrency, max_retries) for _ in range(actors)]
    pool = ActorPool(workers)
    chunks = [rows[i : i + chunk_size] for i in range(0, len(rows), chunk_size)]
    answered = [
        row
        for chunk in pool.map(lambda worker, chunk: worker.answer.remote(chunk), chunks)
        for row in chunk
    ]
    retries = sum(ray.get([worker.retries.remote() for worker in workers]))
    return answered, retries


def main() -> None:
    topics = ("billing", "shipping", "login", "refund", "bug")
    rows = [{"id": i, "topic": topics[i % len(topics)]} for i in range(200)]
    with kimi_endpoint():
        # Started after kimi_endpoint set MOONSHOT_*: the worker processes inherit it.
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)
        try:
            answered, retries = process(rows)
        finally:
            ray.shutdown()
    failed = [row for row in answered if row["error"]]
    print(f"{len(answered) - len(failed)} of {len(rows)} tickets answered on 2 actors x 4 calls")
    print(f"in order: {[row['id'] for row in answered] == [row['id'] for row in rows]}")
    print(f"retries honoured inside the calls: {retries}; failed: {len(failed)}")
    for row in answered[:3]:
        print(f"- ticket {row['id']}: {row['answer']}")


if __name__ == "__main__":
    main()
