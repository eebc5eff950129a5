"""Checker for the MFJS JSON-Schema dialect (MoonshotAI/walle): every node declares ``type``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["mfjs_error"]

_COMBINATORS = ("anyOf", "oneOf", "allOf")


def _join(path: str, segment: str) -> str:
    return f"{path}.{segment}" if path else segment


def _children(node: dict[str, Any], path: str) -> Iterator[tuple[Any, str]]:
    """Every sub-schema of ``node`` with its path (``items`` is checked by the caller)."""
    for key in _COMBINATORS:
        for index, branch in enumerate(node.get(key) or []):
            yield branch, _join(path, f"{key}.{index}")
    for key in ("properties", "$defs", "definitions"):
        group = node.get(key)
        if isinstance(group, dict):
            for name, child in group.items():
                yield child, _join(path, f"{key}.{name}")
    for index, child in enumerate(node.get("prefixItems") or []):
        yield child, _join(path, f"prefixItems.{index}")
    if isinstance(node.get("additionalProperties"), dict):
        yield node["additionalProperties"], _join(path, "additionalProperties")
    if isinstance(node.get("items"), dict):
        yield node["items"], _join(path, "items")


def mfjs_error(node: Any, path: str = "") -> str | None:
    """The first MFJS violation as ``At path '<path>': <problem>``, or None when valid."""
    if not isinstance(node, dict):
        return f"At path '{path}': schema must be an object"
    if not node:
        # The empty schema (any value) is MFJS-valid: walle's own valid cases have it at the root
        # and as additionalProperties (Moonshot vendor verifier testdata).
        return None
    combined = any(key in node for key in _COMBINATORS)
    if not combined and "$ref" not in node and "type" not in node:
        return f"At path '{path}': type is not defined"
    if "items" in node and not isinstance(node["items"], dict):
        return f"At path '{_join(path, 'items')}': items must be an object"
    for child, child_path in _children(node, path):
        if (error := mfjs_error(child, child_path)) is not None:
            return error
    return None
