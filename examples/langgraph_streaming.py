"""LangGraph streaming of Kimi's reasoning to the terminal (`stream_mode="messages"`).

Shows: a `create_agent` graph streamed token by token; reasoning blocks are printed dimmed as they
arrive, tool results as they come back, then the answer, so a user sees progress from the first
token of a long reasoning.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/langgraph_streaming.py

Without a key it runs against an embedded kimi-emulator (offline).
"""

from __future__ import annotations

import sys

from _kimi_endpoint import kimi_endpoint

# Dim the reasoning on a terminal; plain text when piped to a file.
DIM, RESET = ("\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "")


def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


def main() -> None:
    with kimi_endpoint():
        from langchain.agents import create_agent
        from langchain_core.messages import HumanMessage
        from langchain_kimi import ChatKimi

        agent = create_agent(ChatKimi(model="kimi-k2.6"), tools=[word_count])
        question = 'Use word_count on "the quick brown fox jumps" and tell me the result.'
        shown = None
        for part in agent.stream(
            {"messages": [HumanMessage(question)]}, stream_mode="messages", version="v2"
        ):
            if part["type"] != "messages":
                continue
            token, metadata = part["data"]
            if metadata["langgraph_node"] == "tools":
                print(f"\n[tool {token.name}] {token.text}", end="")
                shown = "tool"
                continue
            for block in token.content_blocks:
                if block["type"] == "reasoning":
                    if shown != "thinking":
                        print("\n[thinking] ", end="")
                        shown = "thinking"
                    print(f"{DIM}{block['reasoning']}{RESET}", end="", flush=True)
                elif block["type"] == "text":
                    if shown != "answer":
                        print("\n[answer] ", end="")
                        shown = "answer"
                    print(block["text"], end="", flush=True)
        print()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
