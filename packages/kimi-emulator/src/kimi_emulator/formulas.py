"""Official tools ("Formulas", kimi-api.md 5) with deterministic fake behaviour.

No real network and no code execution: web-search reads a small built-in corpus, fetch a built-in
page store, date a clock, quickjs a safe arithmetic evaluator, base64 the standard codec.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from kimi_emulator.arith import evaluate
from kimi_emulator.errors import ApiError

__all__ = ["FORMULAS", "PAGES", "run_fiber", "search_corpus", "tools_of"]

_CORPUS: tuple[dict[str, str], ...] = (
    {
        "title": "Moonshot AI",
        "url": "https://www.moonshot.ai/",
        "snippet": "Moonshot AI is a Beijing-based company that builds the Kimi models.",
        "class": "all",
    },
    {
        "title": "Kimi K2.6 quickstart",
        "url": "https://platform.kimi.ai/docs/guide/kimi-k2-6-quickstart",
        "snippet": "kimi-k2.6 has a 262,144-token context window and thinks by default.",
        "class": "code",
    },
    {
        "title": "Kimi K3 quickstart",
        "url": "https://platform.kimi.ai/docs/guide/kimi-k3-quickstart",
        "snippet": "kimi-k3 has a 1M-token context and always reasons; depth is set by "
        "reasoning_effort.",
        "class": "code",
    },
    {
        "title": "Paris weather today",
        "url": "https://weather.example.com/paris",
        "snippet": "Paris: 18 degrees Celsius, light clouds, wind 10 km/h.",
        "class": "all",
    },
    {
        "title": "Python 3.11 release notes",
        "url": "https://docs.python.org/3.11/whatsnew/3.11.html",
        "snippet": "Python 3.11 is between 10 and 60 percent faster than 3.10.",
        "class": "code",
    },
    {
        "title": "The Eiffel Tower",
        "url": "https://en.example.org/wiki/Eiffel_Tower",
        "snippet": "The Eiffel Tower in Paris is 330 metres tall and was completed in 1889.",
        "class": "library",
    },
)

PAGES: dict[str, str] = {
    "https://example.com/": "Example Domain. This domain is for use in illustrative examples.",
    "https://www.moonshot.ai/": "Moonshot AI builds Kimi, a family of large language models.",
    "https://platform.kimi.ai/docs/api/chat": (
        "POST /v1/chat/completions creates a chat completion. Streaming uses server-sent events."
    ),
}
"""The fetch formula's page store: URL -> page text (only these URLs exist)."""


def search_corpus(
    query: str, classes: list[str] | None = None, limit: int = 3
) -> list[dict[str, str]]:
    """Deterministic search: corpus entries ranked by shared words with ``query``."""
    words = {w.strip(".,?!").lower() for w in query.split() if len(w) > 2}
    wanted = set(classes or []) - {"all"}

    def score(entry: dict[str, str]) -> int:
        text = f"{entry['title']} {entry['snippet']}".lower()
        return sum(1 for w in words if w in text)

    pool = [e for e in _CORPUS if not wanted or e["class"] in wanted] or list(_CORPUS)
    ranked = sorted(pool, key=score, reverse=True)
    return [{k: e[k] for k in ("title", "url", "snippet")} for e in ranked[:limit]]


def _function(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def _web_search(args: dict[str, Any], now: datetime) -> Any:
    del now
    query = str(args.get("query", ""))
    classes = args.get("classes")
    return {
        "query": query,
        "results": search_corpus(query, classes if isinstance(classes, list) else None),
    }


def _fetch(args: dict[str, Any], now: datetime) -> Any:
    del now
    url = str(args.get("url", ""))
    if url not in PAGES:
        raise ValueError(f"page not found: {url}")
    return {"url": url, "content": PAGES[url]}


def _date(args: dict[str, Any], now: datetime) -> Any:
    offset = float(args.get("utc_offset_hours", 0) or 0)
    local = now.astimezone(timezone(timedelta(hours=offset)))
    return {
        "datetime": local.isoformat(),
        "weekday": local.strftime("%A"),
        "timestamp": int(now.timestamp()),
    }


def _quickjs(args: dict[str, Any], now: datetime) -> Any:
    del now
    code = str(args.get("code", ""))
    source = code.strip()
    if source.startswith("console.log(") and source.rstrip(";").endswith(")"):
        source = source.rstrip(";")[len("console.log(") : -1]
    return {"result": evaluate(source)}


def _base64(args: dict[str, Any], now: datetime) -> Any:
    del now
    data = str(args.get("data", ""))
    if args.get("operation", "encode") == "decode":
        try:
            return {
                "result": base64.b64decode(data, validate=True).decode("utf-8", errors="replace")
            }
        except binascii.Error as exc:
            raise ValueError(f"invalid base64: {exc}") from exc
    return {"result": base64.b64encode(data.encode()).decode()}


_Runner = Callable[[dict[str, Any], datetime], Any]

FORMULAS: dict[str, tuple[dict[str, Any], _Runner]] = {
    "moonshot/web-search:latest": (
        _function(
            "web_search",
            "Search the web for the query and return the best results.",
            {
                "query": {"type": "string", "description": "What to search for"},
                "classes": {
                    "type": "array",
                    "description": "Domains to focus on",
                    "items": {
                        "type": "string",
                        "enum": [
                            "all",
                            "academic",
                            "social",
                            "library",
                            "finance",
                            "code",
                            "ecommerce",
                            "medical",
                        ],
                    },
                },
            },
            ["query"],
        ),
        _web_search,
    ),
    "moonshot/fetch:latest": (
        _function(
            "fetch",
            "Fetch the text content of a web page.",
            {"url": {"type": "string", "description": "The page URL"}},
            ["url"],
        ),
        _fetch,
    ),
    "moonshot/date:latest": (
        _function(
            "date",
            "Get the current date and time.",
            {"utc_offset_hours": {"type": "number", "description": "Time zone offset from UTC"}},
            [],
        ),
        _date,
    ),
    "moonshot/quickjs:latest": (
        _function(
            "quickjs",
            "Run a JavaScript expression and return its value (arithmetic subset).",
            {"code": {"type": "string", "description": "The JavaScript expression"}},
            ["code"],
        ),
        _quickjs,
    ),
    "moonshot/base64:latest": (
        _function(
            "base64",
            "Encode text to base64 or decode base64 to text.",
            {
                "data": {"type": "string", "description": "The input"},
                "operation": {"type": "string", "enum": ["encode", "decode"]},
            },
            ["data"],
        ),
        _base64,
    ),
}


def _lookup(uri: str) -> tuple[dict[str, Any], _Runner]:
    entry = FORMULAS.get(uri)
    if entry is None:
        raise ApiError.not_found(f"formula {uri} not found")
    return entry


def tools_of(uri: str) -> dict[str, Any]:
    """``GET /v1/formulas/{uri}/tools``.

    Raises:
        ApiError: 404 for an unknown formula.
    """
    tool, _ = _lookup(uri)
    return {"object": "list", "tools": [tool]}


def run_fiber(uri: str, body: Any, now: datetime) -> dict[str, Any]:
    """``POST /v1/formulas/{uri}/fibers``: run the tool and wrap the result in a fiber object.

    Raises:
        ApiError: 404 for an unknown formula, 400 for a body without the tool's name.
    """
    tool, runner = _lookup(uri)
    if not isinstance(body, dict) or body.get("name") != tool["function"]["name"]:
        raise ApiError.invalid(
            f"Invalid request: name must be {tool['function']['name']!r} for formula {uri}"
        )
    arguments = body.get("arguments", "{}")
    fiber: dict[str, Any] = {
        "id": f"fiber-{secrets.token_hex(12)}",
        "object": "fiber",
        "created_at": int(now.timestamp()),
        "lambda_id": f"lambda-{uri.split('/')[1].split(':', maxsplit=1)[0]}",
        "status": "succeeded",
        "formula": uri,
        "organization_id": "org-emulator",
        "project_id": "proj-emulator",
        "context": {"input": arguments},
    }
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        if not isinstance(parsed, dict):
            raise ValueError("arguments must be a JSON object")
        fiber["context"]["output"] = json.dumps(runner(parsed, now), ensure_ascii=False)
    except (
        ValueError,
        TypeError,
        OverflowError,
    ) as exc:  # bad arguments fail the fiber, not the server
        fiber["status"] = "failed"
        fiber["context"]["error"] = str(exc)
    return fiber
