"""The default rule-based brain: deterministic answers so examples work without a script.

It thinks when thinking is on, calls the declared tools the user's words point at (see
``tool_selection``; arguments built from the tool's schema with numbers and quoted strings taken
from the message), answers tool results by quoting them, searches when ``$web_search`` is declared
and the user asks to search, writes JSON for a ``response_format`` (after tool results too; a
``json_object`` has the keys the prompt asks for), and continues a partial prefix without repeating
it. ``stop`` sequences are applied to every reply when it is rendered (``stops``).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from kimi_emulator.arith import evaluate, find_expression
from kimi_emulator.formulas import search_corpus
from kimi_emulator.json_keys import asked_keys
from kimi_emulator.schema_instance import instance
from kimi_emulator.script import Reply, ScriptedToolCall
from kimi_emulator.tool_selection import select_tools
from kimi_emulator.validate import WEB_SEARCH, ChatRequest, message_text

__all__ = ["think"]

_SEARCH_WORDS = re.compile(
    r"\b(search|look\s+(?:it\s+|this\s+|that\s+|something\s+)?up|google)\b", re.I
)
_QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'|“([^”]*)”")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_EXACTLY = re.compile(r"\bexactly[:\s]+[\"'“]?([^\"'”\n]+?)[\"'”]?\s*[.!]?\s*$", re.I)
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)*)\b")


class _Hints:
    """Values the user wrote, handed out in order to schema slots of the matching type."""

    def __init__(self, text: str, skip: set[str]) -> None:
        self.quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
        self.numbers = [float(n) for n in _NUMBER.findall(text)]
        words = [w for w in _CAPITALISED.findall(text) if w not in skip]
        # The first capitalised word usually starts the sentence; prefer later ones.
        self.names = words[1:] + words[:1]
        self.text = text

    def string(self, name: str, schema: dict[str, Any]) -> str:
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return next((str(v) for v in enum if str(v).lower() in self.text.lower()), str(enum[0]))
        if self.quoted:
            return str(self.quoted.pop(0))
        if self.names:
            return str(self.names.pop(0))
        return f"example {name}".strip()

    def number(self) -> float:
        return self.numbers.pop(0) if self.numbers else 1.0


def _instance(schema: Any, hints: _Hints, name: str = "") -> Any:
    """A value valid for ``schema``, filled from the user's words where they fit."""
    return instance(schema, hints, name)


def _answer_text(text: str) -> str:
    if match := _EXACTLY.search(text):
        return match.group(1).strip()
    if expression := find_expression(text):
        try:
            return str(evaluate(expression))
        except ValueError:
            pass
    snippet = " ".join(text.split())[:200]
    return (
        f"Hello from the Kimi emulator. You said: {snippet}"
        if snippet
        else "Hello from the Kimi emulator."
    )


def _tool_results(request: ChatRequest, searches: Callable[[str], str | None]) -> Reply | None:
    """An answer quoting the trailing tool messages, or None when the last message is not a tool."""
    trailing: list[dict[str, Any]] = []
    for message in reversed(request.messages):
        if message.get("role") != "tool":
            break
        trailing.insert(0, message)
    if not trailing:
        return None
    parts: list[str] = []
    for message in trailing:
        content = message_text(message.get("content"))
        if message.get("name") == WEB_SEARCH:
            search_id = str(json.loads(content).get("search_result", {}).get("search_id", ""))
            query = searches(search_id) or _user_text(request)
            hits = search_corpus(query)
            found = "; ".join(f"{hit['title']}: {hit['snippet']} ({hit['url']})" for hit in hits)
            parts.append(f"According to the search results, {found}")
        else:
            parts.append(f"The tool {message.get('name') or 'result'} returned: {content}")
    reasoning = "I have the tool results; I will answer from them." if request.thinking else None
    answer = "\n".join(parts)
    if request.response_format is not None:
        # The format asked for still shapes the final answer, now filled from the results.
        answer = _json_answer(request, answer, answer)
    return Reply(content=answer, reasoning=reasoning)


def _user_text(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.get("role") == "user":
            return message_text(message.get("content"))
    return request.last_text


def _tool_calls(request: ChatRequest, text: str) -> list[ScriptedToolCall]:
    if request.tool_choice == "none" or not request.functions:
        return []
    by_name = {str(f.get("name")): f for f in request.functions}
    choice = request.tool_choice
    if isinstance(choice, dict):
        chosen = [str(choice["function"]["name"])]
    else:
        chosen = select_tools(request.functions, text)
        if not chosen and choice == "required":
            chosen = [next(iter(by_name))]
    hints = _Hints(text, skip=set())
    calls = []
    for name in chosen:
        arguments = _instance(by_name[name].get("parameters") or {"type": "object"}, hints)
        calls.append(
            ScriptedToolCall(name=name, arguments=arguments if isinstance(arguments, dict) else {})
        )
    return calls


def _prompt_text(request: ChatRequest) -> str:
    """The instructions a reply's shape can come from: system messages and the last user turn."""
    system = [message_text(m.get("content")) for m in request.messages if m.get("role") == "system"]
    return "\n".join([*system, _user_text(request)])


def _json_answer(request: ChatRequest, source: str, answer: str) -> str:
    """The ``response_format`` answer: values from ``source`` (json_schema) or ``answer``.

    A json_object answer has the keys the prompt asks for (``{"answer": ...}`` when it names none).
    """
    assert request.response_format is not None
    if request.response_format.get("type") == "json_schema":
        schema = request.response_format["json_schema"]["schema"]
        return json.dumps(_instance(schema, _Hints(source, skip=set())), ensure_ascii=False)
    keys = asked_keys(_prompt_text(request)) or ["answer"]
    return json.dumps(dict.fromkeys(keys, answer), ensure_ascii=False)


def think(
    request: ChatRequest, searches: Callable[[str], str | None], web_search_tokens: int
) -> Reply:
    """The brain's reply to a validated request (``searches``: search id -> query)."""
    answered = _tool_results(request, searches)
    if answered is not None:
        return answered
    text = _user_text(request)
    if request.web_search_declared and request.tool_choice != "none" and _SEARCH_WORDS.search(text):
        search_id = f"search-{secrets.token_hex(12)}"
        reasoning = f"The user wants me to search for: {text[:120]}" if request.thinking else None
        return Reply.web_search(
            text, total_tokens=web_search_tokens, search_id=search_id, reasoning=reasoning
        )
    calls = _tool_calls(request, text)
    if calls:
        names = ", ".join(call.name for call in calls)
        reasoning = f"The user asked for {names}; I will call it." if request.thinking else None
        return Reply(tool_calls=calls, reasoning=reasoning)
    if request.response_format is not None:
        content = _json_answer(request, text, _answer_text(text))
    else:
        content = _answer_text(text)
    if request.partial_prefix:
        prefix = request.partial_prefix
        content = content.removeprefix(prefix) if content.startswith(prefix) else f" {content}"
    reasoning = _reasoning(text, content) if request.thinking else None
    return Reply(content=content, reasoning=reasoning)


def _reasoning(text: str, answer: str) -> str:
    expression = find_expression(text)
    if expression and answer.strip() == _answer_text(text):
        return f"I need to compute {expression}. Working it out: {expression} = {answer.strip()}."
    asked = " ".join(text.split())[:120].rstrip(".!?")
    return f"The user wrote: {asked}. I will answer directly."
