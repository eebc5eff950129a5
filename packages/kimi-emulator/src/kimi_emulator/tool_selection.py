"""Which declared tools the default brain calls for a user message: deterministic word matching.

A real model calls a tool when the request needs it; the emulator approximates that with words. A
tool is called when the message names it (``get_weather`` or "get weather"), or mentions the words
of its name ("What is the weather in Paris?" -> ``get_weather``) or of its description. Words match
on a shared stem ("generate" ~ "generator", "creating" ~ "create"); generic tool vocabulary ("get",
"create", "tool") and English function words never decide on their own. With no full-name mention,
the single best-matching tool is called (the earlier-declared one on a tie). A message that only
asks for a tool ("use a tool", "请使用工具") and does not decline one gets the first declared tool,
as a model told to use a tool picks one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["select_tools"]

_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Description words needed when no word of the tool's name matches.
_DESCRIPTION_MATCHES = 2
_MIN_STEM = 4

# Words that say nothing about which tool is meant: function words and the verbs and nouns of
# tool calling itself (their other forms too: "creating", "returned").
_UNINFORMATIVE_WORDS = """
    a an the and or but if of to in on at by for from with without into onto about as is are was
    were be been being am do does did done can could should would will shall may might must
    i me my we our you your he she it its they them their this that these those there here what
    which who whom whose when where why how not no yes please all any some each every one two
    get gets got set sets make makes made create creates created use uses using used call calls
    called run runs tool tools function functions return returns returned give gives show
    shows list lists find finds fetch fetches retrieve retrieves look looks lookup input output
    value values data result results argument arguments parameter parameters given specified
    particular new current
"""
_UNINFORMATIVE = _UNINFORMATIVE_WORDS.split()


# "Use a tool" in English and Chinese, and the ways of declining one ("do not use any tool",
# "不应使用任何工具"), which win over the request.
_ASKS_FOR_A_TOOL = re.compile(
    r"\b(?:use|call|invoke)\s+(?:a|an|the|your|one|some|any)?\s*tools?\b|(?:使用|调用|用)工具",
    re.IGNORECASE,
)
_DECLINES_TOOLS = re.compile(
    r"\b(?:don't|do\s+not|never|without|no\s+need\s+to)\s+(?:use|using|call|calling|invoke)\b"
    r"|不(?:应|要|需要|必|用)?(?:使用|调用|用)?(?:任何)?工具|别(?:使用|调用|用)",
    re.IGNORECASE,
)


def _asks_for_any_tool(text: str) -> bool:
    return bool(_ASKS_FOR_A_TOOL.search(text)) and not _DECLINES_TOOLS.search(text)


def _words(text: str) -> list[str]:
    """Lower-case words, camelCase split, a plural "s" dropped ("adds" -> "add")."""
    words = (w.lower() for w in _WORD.findall(_CAMEL.sub(" ", text)))
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def _same_stem(a: str, b: str) -> bool:
    """Equal, or long enough and equal but for a short ending ("greeting"/"greetings")."""
    if a == b:
        return True
    shortest = min(len(a), len(b))
    if shortest < _MIN_STEM:
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= max(_MIN_STEM, shortest - 2)


class _Vocabulary:
    """Words indexed by their first letters, so a stem lookup compares only the few candidates."""

    def __init__(self, words: Iterable[str]) -> None:
        self.exact = frozenset(words)
        self.by_prefix: dict[str, list[str]] = {}
        for word in self.exact:
            if len(word) >= _MIN_STEM:
                self.by_prefix.setdefault(word[:_MIN_STEM], []).append(word)

    def has_stem_of(self, word: str) -> bool:
        if word in self.exact:
            return True
        if len(word) < _MIN_STEM:
            return False
        return any(_same_stem(word, w) for w in self.by_prefix.get(word[:_MIN_STEM], ()))


_GENERIC = _Vocabulary(_UNINFORMATIVE)


def _informative(words: Iterable[str]) -> list[str]:
    return [
        w
        for w in dict.fromkeys(words)
        if len(w) > 1 and not w.isdigit() and not _GENERIC.has_stem_of(w)
    ]


def _matches(wanted: Sequence[str], said: _Vocabulary) -> int:
    return sum(1 for word in wanted if said.has_stem_of(word))


def _names_in(text: str, spaced_text: str, name: str) -> bool:
    """``get_weather`` or "get weather" as whole words of ``text`` (``spaced_text``: its words)."""
    if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE):
        return True
    spaced = " ".join(_words(name))
    return bool(spaced) and f" {spaced} " in spaced_text


def _score(function: dict[str, Any], said: _Vocabulary) -> int:
    """How strongly the message points at ``function`` (0: not at all)."""
    name_words = _informative(_words(str(function.get("name", ""))))
    description_words = [
        w
        for w in _informative(_words(str(function.get("description") or "")))
        if w not in name_words
    ]
    by_name = _matches(name_words, said)
    by_description = _matches(description_words, said)
    if by_name == 0 and by_description < _DESCRIPTION_MATCHES:
        return 0
    return 2 * by_name + by_description


def select_tools(functions: Sequence[dict[str, Any]], text: str) -> list[str]:
    """The names of the tools a message asks for, in declaration order (may be empty).

    Args:
        functions: the declared functions (``{"name", "description", "parameters"}``).
        text: the user's message.
    """
    words = _words(text)
    spaced_text = f" {' '.join(words)} "
    named = [
        str(f["name"])
        for f in functions
        if f.get("name") and _names_in(text, spaced_text, str(f["name"]))
    ]
    if named:
        return named
    said = _Vocabulary(_informative(words))
    best_name, best = "", 0
    for function in functions:
        score = _score(function, said)
        if score > best:
            best_name, best = str(function.get("name", "")), score
    if best:
        return [best_name]
    first = next((str(f["name"]) for f in functions if f.get("name")), "")
    return [first] if first and _asks_for_any_tool(text) else []
