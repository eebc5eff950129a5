"""A LlamaIndex RAG pipeline over this repository's own docs, with Kimi thinking on.

Shows: `SimpleDirectoryReader` over docs/ -> `VectorStoreIndex` -> a query engine answered by
`Kimi(model="kimi-k2.6", thinking=True)`, printing Kimi's reasoning (collected from LlamaIndex's
instrumentation events, since a query engine returns only text), the answer and the source
pages. Kimi has no embeddings endpoint, so the example embeds locally with a tiny bag-of-words
hashing embedding (deterministic, no download); swap in any LlamaIndex embedding model for real
use.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/llamaindex_rag.py "How do I turn thinking off?"

Without a key it runs against an embedded kimi-emulator: retrieval is real, but the answer comes
from the emulator's rule-based brain (it does arithmetic or echoes), not from a language model.
"""

from __future__ import annotations

import math
import re
import sys
import zlib
from pathlib import Path

from _kimi_endpoint import kimi_endpoint
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import ThinkingBlock
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent

DOCS = Path(__file__).resolve().parents[1] / "docs"
WORD = re.compile(r"[a-z0-9_$]+")


class HashingEmbedding(BaseEmbedding):
    """Bag-of-words counts hashed into a fixed-size unit vector: local and deterministic."""

    dimensions: int = 512

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in WORD.findall(text.lower()):
            vector[zlib.crc32(word.encode()) % self.dimensions] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


class ReasoningCollector(BaseEventHandler):
    """Keeps the reasoning of every LLM chat the pipeline makes (the query engine returns text)."""

    reasoning: list[str] = []

    def handle(self, event: BaseEvent, **kwargs: object) -> None:
        if isinstance(event, LLMChatEndEvent) and event.response is not None:
            self.reasoning += [
                block.content
                for block in event.response.message.blocks
                if isinstance(block, ThinkingBlock) and block.content
            ]


def main() -> None:
    question = sys.argv[1] if len(sys.argv) > 1 else "How do I turn thinking off for kimi-k2.6?"
    with kimi_endpoint():
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import MarkdownNodeParser
        from llama_index.llms.kimi import Kimi

        documents = SimpleDirectoryReader(
            str(DOCS), recursive=True, required_exts=[".md"]
        ).load_data()
        # One node per Markdown section: the docs' own structure is the natural chunking.
        index = VectorStoreIndex.from_documents(
            documents, transformations=[MarkdownNodeParser()], embed_model=HashingEmbedding()
        )
        print(f"Indexed {len(documents)} pages from {DOCS.name}/")
        engine = index.as_query_engine(
            llm=Kimi(model="kimi-k2.6", thinking=True), similarity_top_k=3
        )
        collector = ReasoningCollector()
        get_dispatcher().add_event_handler(collector)
        response = engine.query(question)
        print(f"Q: {question}")
        for reasoning in collector.reasoning:
            print(f"Kimi's reasoning: {reasoning}")
        print(f"A: {response}")
        print("Sources:")
        for node in response.source_nodes:
            name = Path(node.metadata.get("file_path", "?")).relative_to(DOCS.parent)
            print(f"- {name} (score {node.score:.2f})")


if __name__ == "__main__":
    main()
