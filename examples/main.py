"""Main job: a small Kimi agent, end to end, in the terminal.

A LangChain `create_agent` on `ChatKimi` (kimi-k2.6, thinking on) with one local tool and Kimi's
builtin `$web_search`. For each question it streams Kimi's reasoning (dimmed) and then its answer,
shows the tool call and the web search as they happen, and a spinner while Kimi is working.

Run it (from a fresh machine with Python 3.11 and pip):

    python3 -m pip install uv nox && python3 -m nox -s main

With `MOONSHOT_API_KEY` set it talks to the real Kimi API (https://api.moonshot.ai/v1, or
`MOONSHOT_BASE_URL`); otherwise it starts the embedded kimi-emulator and says so on its first line
(the emulator's answers are rule-based, not a language model's).
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from _kimi_endpoint import kimi_endpoint
from rich.console import Console
from rich.status import Status

QUESTIONS = [
    'How many days are left until "2027-01-01"? Use the days_until tool.',
    "Search the web: what is the newest Kimi model, and how large is its context window?",
]


def days_until(day: str) -> str:
    """Count the days from today until a date given as YYYY-MM-DD."""
    try:
        target = date.fromisoformat(day)
    except ValueError:
        return f"{day!r} is not a YYYY-MM-DD date"
    return f"{(target - date.today()).days} days from {date.today().isoformat()} to {day}"


class StreamView:
    """One agent run on screen: dimmed reasoning, tool activity, the answer; a spinner between."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.section: str | None = None
        self.spinner: Status = console.status("Kimi is thinking...")
        self.usage = {"input_tokens": 0, "output_tokens": 0, "reasoning": 0}

    def wait(self, why: str) -> None:
        # The spinner redraws its own line: finish the streamed one first so it is not erased.
        self._end_line()
        self.spinner.update(why)
        self.spinner.start()

    def _end_line(self) -> None:
        if self.section in ("thinking", "answer"):
            self.console.print()
        self.section = None

    def _enter(self, section: str, title: str, style: str) -> None:
        self.spinner.stop()
        if section != self.section:
            self._end_line()
            self.console.print(title, style=style)
            self.section = section

    def reasoning(self, text: str) -> None:
        self._enter("thinking", "Thinking", "bold magenta")
        self.console.print(text, end="", style="dim italic", soft_wrap=True, markup=False)

    def answer(self, text: str) -> None:
        self._enter("answer", "Answer", "bold green")
        self.console.print(text, end="", soft_wrap=True, markup=False)

    def note(self, text: str) -> None:
        self.spinner.stop()
        self._end_line()
        self.console.print(text, style="cyan", markup=False)

    def model_chunk(self, token: Any) -> None:
        for block in token.content_blocks:
            kind = block["type"]
            if kind == "reasoning" and block.get("reasoning"):
                self.reasoning(block["reasoning"])
            elif kind == "text" and block.get("text"):
                self.answer(block["text"])
            elif kind == "tool_call_chunk" and block.get("name"):
                self.note(f"-> calling {block['name']}")
                self.wait(f"Running {block['name']}...")
        for search in token.response_metadata.get("web_searches") or []:
            self.note(
                f"-> searched the web (round {search['round']}, {search['search_tokens']} tokens)"
            )
        usage = token.usage_metadata
        if usage:
            self.usage["input_tokens"] += usage["input_tokens"]
            self.usage["output_tokens"] += usage["output_tokens"]
            self.usage["reasoning"] += usage.get("output_token_details", {}).get("reasoning", 0)
        if token.response_metadata.get("finish_reason"):
            self.wait("Kimi is working...")

    def tool_result(self, token: Any) -> None:
        self.note(f"<- {token.name}: {token.text}")
        self.wait("Kimi is thinking about the result...")

    def finish(self) -> None:
        self.spinner.stop()
        self._end_line()
        used = self.usage
        self.console.print(
            f"[dim]tokens: input {used['input_tokens']}, output {used['output_tokens']} "
            f"(reasoning {used['reasoning']})[/dim]"
        )


def main() -> int:
    console = Console(highlight=False)
    with kimi_endpoint(
        say=lambda line: console.print(line, style="bold", markup=False, soft_wrap=True)
    ):
        with console.status("Loading LangChain..."):
            from langchain.agents import create_agent
            from langchain_core.messages import HumanMessage
            from langchain_kimi import ChatKimi

            model = ChatKimi(model="kimi-k2.6", max_tokens=16000)  # thinking is on by default
            agent = create_agent(model, tools=[days_until, {"type": "web_search"}])
        for question in QUESTIONS:
            console.rule(question, style="blue")
            view = StreamView(console)
            view.wait("Kimi is thinking...")
            for part in agent.stream(
                {"messages": [HumanMessage(question)]}, stream_mode="messages", version="v2"
            ):
                if part["type"] != "messages":
                    continue
                token, metadata = part["data"]
                if metadata["langgraph_node"] == "tools":
                    view.tool_result(token)
                else:
                    view.model_chunk(token)
            view.finish()
            console.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
