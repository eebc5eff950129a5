"""A LlamaIndex ingestion whose per-node LLM metadata extraction runs through Kimi's Batch API.

Shows: `IngestionPipeline([MarkdownNodeParser, ParagraphSplitter, BatchQuestionsExtractor])` over
this site's pages: a few hundred nodes, one per paragraph. The extractor is a regular LlamaIndex
`BaseExtractor`, but instead of one online call per node (`QuestionsAnsweredExtractor`) it sends
every node's prompt as one Batch API job with `Kimi.abatch_complete`: 60 % of the price, outside
the real-time rate limits, done within the completion window. It prints the job's progress, a few
nodes with their questions, and the token usage and estimated cost of the job.

Against the real API (a real batch takes minutes to hours):

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/llamaindex_batch_ingestion.py

Without a key it runs against an embedded kimi-emulator, whose Batch API runs the same status
machine on a faster clock; the questions then come from its rule-based brain, not from a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _kimi_endpoint import kimi_endpoint
from kimi_core import BatchPolling, BatchProgress
from llama_index.core import Document
from llama_index.core.extractors import BaseExtractor
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import MarkdownNodeParser
from llama_index.core.schema import BaseNode, TextNode, TransformComponent
from llama_index.llms.kimi import Kimi

DOCS = Path(__file__).resolve().parents[1] / "docs"
PROMPT = (
    "Here is a passage of documentation:\n\n{text}\n\n"
    "Write the 2 questions this passage answers best, one per line."
)


class ParagraphSplitter(TransformComponent):
    """One node per paragraph (blank-line separated) of at least `min_chars` characters."""

    min_chars: int = 80

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for node in nodes:
            for paragraph in node.get_content().split("\n\n"):
                if len(paragraph.strip()) >= self.min_chars:
                    out.append(TextNode(text=paragraph.strip(), metadata=dict(node.metadata)))
        return out


class BatchQuestionsExtractor(BaseExtractor):
    """`questions_this_excerpt_can_answer` for every node, from one Kimi Batch API job."""

    llm: Kimi
    completion_window: str = "24h"
    polling: BatchPolling = BatchPolling(initial=0.5, maximum=60.0)

    async def aextract(self, nodes: Sequence[BaseNode]) -> list[dict[str, Any]]:
        prompts = [
            PROMPT.format(text=node.get_content(metadata_mode=self.metadata_mode)) for node in nodes
        ]
        responses = await self.llm.abatch_complete(
            prompts,
            completion_window=self.completion_window,
            batch_metadata={"pipeline": "docs-questions"},
            progress=_report,
            polling=self.polling,
            return_exceptions=True,
        )
        out: list[dict[str, Any]] = []
        for response in responses:
            if isinstance(response, Exception):  # one failed request does not sink the ingestion
                out.append({"questions_error": str(response)})
            else:
                out.append(
                    {
                        "questions_this_excerpt_can_answer": response.text.strip(),
                        "batch_id": response.additional_kwargs.get("batch_id"),
                        "estimated_cost_usd": response.additional_kwargs.get("estimated_cost_usd"),
                        "tokens": response.additional_kwargs.get("total_tokens"),
                    }
                )
        return out


_last: list[str] = []


def _report(progress: BatchProgress) -> None:
    line = f"  batch job {progress.status}: {progress.completed + progress.failed}/{progress.total}"
    if not _last or _last[-1] != line:
        _last.append(line)
        print(line, flush=True)


def ingest(documents: Sequence[Document], llm: Kimi, **extractor: Any) -> Sequence[BaseNode]:
    """Split the documents into paragraph nodes and add each node's questions in one batch job."""
    pipeline = IngestionPipeline(
        transformations=[
            MarkdownNodeParser(),
            ParagraphSplitter(),
            BatchQuestionsExtractor(llm=llm, **extractor),
        ]
    )
    return pipeline.run(documents=documents)


def main() -> None:
    with kimi_endpoint():
        documents = [
            Document(text=page.read_text(encoding="utf-8"), metadata={"page": page.name})
            for page in sorted(DOCS.rglob("*.md"))
        ]
        nodes = ingest(documents, Kimi(model="kimi-k2.6", thinking=False, max_tokens=256))
        print(f"Ingested {len(documents)} pages into {len(nodes)} nodes, one Batch API job.")
        for node in nodes[:3]:
            print(f"- [{node.metadata['page']}] {node.get_content()[:60]!r}")
            print(f"  questions: {node.metadata.get('questions_this_excerpt_can_answer')!r}")
        errors = [node for node in nodes if "questions_error" in node.metadata]
        for node in errors[:3]:  # per-line failures are reported, never dropped
            print(f"  failed [{node.metadata['page']}]: {node.metadata['questions_error']}")
        failed = len(errors)
        cost = sum(node.metadata.get("estimated_cost_usd") or 0.0 for node in nodes)
        tokens = sum(node.metadata.get("tokens") or 0 for node in nodes)
        batch_ids = {
            str(node.metadata["batch_id"]) for node in nodes if "batch_id" in node.metadata
        }
        print(
            f"{len(nodes) - failed} answered, {failed} failed, {tokens} tokens, "
            f"estimated ${cost:.4f} at the batch price, batches: {', '.join(sorted(batch_ids))}"
        )


if __name__ == "__main__":
    main()
