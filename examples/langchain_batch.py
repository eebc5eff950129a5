"""Label a pile of support tickets through Kimi's Batch API from LangChain, then resume a saved job.

Shows: `model.with_structured_output(Ticket).batch(tickets, use_batch_api=True)`: one Batch API
job at 60 % of the price, the parsed results in input order, the job's progress, and the
estimated cost from each message's usage. Then the explicit job API: `submit_batch`, the job
handle saved to a file (no secret in it), and `batch_results` collecting it as another process
would.

Against the real API (a real batch takes minutes to hours; the call blocks until it ends):

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/langchain_batch.py

Without a key it runs against an embedded kimi-emulator, whose Batch API runs the same status
machine on a faster clock; the labels then come from its rule-based brain.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from _kimi_endpoint import kimi_endpoint
from kimi_core import BatchJob, BatchProgress
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_kimi import ChatKimi
from pydantic import BaseModel, Field


class Ticket(BaseModel):
    """How a support ticket should be routed."""

    team: Literal["billing", "shipping", "accounts", "other"] = Field(description="Owning team")
    urgent: bool = Field(description="Whether a customer is blocked right now")


TICKETS = [
    f"Ticket {i}: "
    + (
        "I was charged twice for my order.",
        "My parcel has not arrived after two weeks.",
        "I cannot log in since the password reset.",
        "Do you ship to Iceland?",
    )[i % 4]
    for i in range(40)
]


def show(progress: BatchProgress) -> None:
    print(f"  {progress.status}: {progress.completed + progress.failed}/{progress.total}")


def main() -> None:
    with kimi_endpoint():
        model = ChatKimi(model="kimi-k2.6", thinking=False)
        labeller = model.with_structured_output(Ticket, include_raw=True)
        inputs: list[LanguageModelInput] = list(TICKETS)
        results = labeller.batch(inputs, use_batch_api=True, progress=show)
        raws: list[AIMessage] = [r["raw"] for r in results]
        print(f"{len(results)} tickets labelled in batch {raws[0].response_metadata['batch_id']}")
        for ticket, result in list(zip(TICKETS, results, strict=True))[:3]:
            print(f"- {ticket[:45]!r} -> {result['parsed']!r}")
        cost = sum(m.response_metadata.get("estimated_cost_usd", 0.0) for m in raws)
        tokens = sum(m.usage_metadata["total_tokens"] for m in raws if m.usage_metadata)
        print(f"{tokens} tokens, estimated ${cost:.5f} at the batch price")

        # A job that outlives this process: submit, save the handle, collect it later.
        job = model.submit_batch(TICKETS[:5], batch_metadata={"run": "example"})
        with tempfile.TemporaryDirectory() as folder:
            saved = Path(folder) / "tickets.batch.json"
            job.save(saved)
            collected = model.batch_results(BatchJob.load(saved))
        print(f"resumed job {', '.join(job.batch_ids)}: {len(collected)} answers collected")


if __name__ == "__main__":
    main()
