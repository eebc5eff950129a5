"""The batch-ingestion example: an IngestionPipeline whose extractor is one Batch API job."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kimi_core import BatchPolling
from kimi_emulator import EmulatorConfig, KimiEmulator
from llama_index.core import Document
from llama_index.llms.kimi import Kimi

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_pipeline_extracts_questions_for_every_node_in_one_job(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    example = __import__("llamaindex_batch_ingestion")
    documents = [
        Document(
            text="\n\n".join(f"Paragraph {d}.{p}: " + "facts about Kimi " * 6 for p in range(60)),
            metadata={"page": f"page-{d}.md"},
        )
        for d in range(5)
    ]
    with KimiEmulator(config=EmulatorConfig(batch_time_scale=100_000)) as emu:
        llm = Kimi(api_key=emu.api_key, base_url=emu.base_url, thinking=False, max_tokens=256)
        nodes = example.ingest(documents, llm, polling=BatchPolling(initial=0.05, maximum=0.2))
        assert len(nodes) == 300
        [batch] = emu.batches.all()
        assert (batch.status, batch.completed, batch.metadata) == (
            "completed",
            300,
            {"pipeline": "docs-questions"},
        )
        lines = [json.loads(x) for x in emu.files.get(batch.input_file_id).data.splitlines()]
        assert emu.chat_requests == []
    # Each node's prompt went into its own line, and each node got its own line's answer back.
    for node, line in zip(nodes, lines, strict=True):
        prompt = line["body"]["messages"][0]["content"]
        assert node.get_content() in prompt
        assert line["body"]["max_completion_tokens"] == 256
        assert node.metadata["batch_id"] == batch.id
        assert node.get_content()[:40] in node.metadata["questions_this_excerpt_can_answer"]
        assert node.metadata["estimated_cost_usd"] > 0
    sys.modules.pop("llamaindex_batch_ingestion", None)
