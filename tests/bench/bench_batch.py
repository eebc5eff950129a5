"""S7: the client-side cost of the Batch API per request, next to parsing online responses.

Building: a chat request from messages and its JSONL line (kimi-core, ChatKimi, Kimi), then the
split into files. Parsing: a result-file line into a ``ChatResult`` (kimi-core) and on into an
``AIMessage`` / ``ChatResponse``, next to ``parse_completion`` of the same completion body as
an online response (its bytes decoded the way the client decodes them). The completion bodies are
the emulator's own answers, composed by its online path. CPU time, no server, no network:
``python tests/bench/bench_batch.py [--lines N] [--samples K]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["run_batch_scenario"]


def _cpu(work: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return statistics.median(times)


def _completions(lines: int) -> list[bytes]:
    """Online completion bodies, as the emulator answers ``Say exactly: answer <i>``."""
    from kimi_emulator.answer import answer
    from kimi_emulator.completion import dumps, to_json
    from kimi_emulator.config import EmulatorConfig
    from kimi_emulator.state import EmulatorState

    state = EmulatorState(EmulatorConfig())
    out = []
    for i in range(lines):
        text = f"Say exactly: answer {i}"
        body = {
            "model": "kimi-k2.6",
            "messages": [{"role": "user", "content": text}],
            "thinking": {"type": "disabled"},
        }
        _, completion = answer(state, body, text)
        out.append(dumps(to_json(completion)))
    return out


def _result_lines(bodies: list[bytes]) -> list[bytes]:
    return [
        b'{"id":"batch_req_%d","custom_id":"request-%d","response":{"status_code":200,'
        b'"request_id":"r%d","body":%s},"error":null}' % (i, i, i, body)
        for i, body in enumerate(bodies)
    ]


def run_batch_scenario(lines: int = 10_000, samples: int = 3) -> dict[str, Any]:
    """Median CPU microseconds per request for each step, over ``samples`` runs of ``lines``."""
    from kimi_core import ChatSettings, Message, build_chat_request, parse_completion
    from kimi_core.batch_lines import batch_line, parse_result_line, plan_files
    from kimi_core.chat_stream import decode_payload as _decode
    from langchain_kimi import ChatKimi
    from langchain_kimi._convert import from_kimi_result
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.llms.kimi import Kimi

    prompts = [f"Say exactly: answer {i}" for i in range(lines)]
    ids = [f"request-{i}" for i in range(lines)]
    settings = ChatSettings(thinking=False)
    chat = ChatKimi(api_key="bench", base_url="http://127.0.0.1:9/v1", thinking=False)
    llm = Kimi(api_key="bench", base_url="http://127.0.0.1:9/v1", thinking=False)
    conversations = [[ChatMessage(role="user", content=p)] for p in prompts]
    bodies = _completions(lines)
    result_lines = _result_lines(bodies)
    parsed = [parse_result_line(line, "batch_x")[1] for line in result_lines]

    def core_build() -> None:
        built = [
            batch_line(build_chat_request([Message.user(p)], settings), i)
            for p, i in zip(prompts, ids, strict=True)
        ]
        plan_files(["kimi-k2.6"] * lines, built)

    def chatkimi_build() -> None:
        for p, i in zip(prompts, ids, strict=True):
            messages = chat._convert_input(p).to_messages()
            batch_line(chat._request(messages, None, {}, stream=False), i)

    def kimi_build() -> None:
        for c, i in zip(conversations, ids, strict=True):
            batch_line(llm._request(c, stream=False), i)

    rows = {
        "build: kimi-core request + line (+ file split)": core_build,
        "build: ChatKimi input -> line": chatkimi_build,
        "build: Kimi (LlamaIndex) messages -> line": kimi_build,
        "parse: batch result line -> ChatResult": lambda: [
            parse_result_line(line, "batch_x") for line in result_lines
        ],
        "parse: online response body -> ChatResult": lambda: [
            parse_completion(_decode(body)) for body in bodies
        ],
        "parse: ChatResult -> AIMessage (ChatKimi)": lambda: [from_kimi_result(r) for r in parsed],
        "parse: ChatResult -> ChatResponse (Kimi)": lambda: [
            llm._chat_response(r, None) for r in parsed
        ],
    }
    per_line = {name: _cpu(work, samples) / lines * 1e6 for name, work in rows.items()}
    return {
        "title": f"S7 Batch API: build and parse {lines:,} requests (CPU per request)",
        "metric": "cpu_us_per_line",
        "lines": lines,
        "samples": samples,
        "rows": per_line,
    }


def batch_table(result: dict[str, Any]) -> str:
    """The S7 rows as Markdown."""
    lines = [f"### {result['title']}", "", "| Step | µs per request |", "|---|---|"]
    lines += [f"| {name} | {value:.1f} |" for name, value in result["rows"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    result = run_batch_scenario(args.lines, args.samples)
    print(batch_table(result))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
