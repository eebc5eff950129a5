"""Normalize JSON Schemas to Moonshot Flavored JSON Schema (MFJS).

Moonshot validates tool ``parameters`` and ``response_format`` schemas against MFJS
(MoonshotAI/walle ``docs/mfjs-spec.md``): every node declares a ``type`` (a single string),
``items`` is one schema, ``$defs`` live at the root, and annotation or validation keywords such as
``title``, ``format`` or ``minimum`` are not supported. Rather than dropping such constraints
silently, they are folded into the node's ``description`` so the model still sees them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["check_nesting", "normalize_schema"]

_MFJS_TYPES = ("null", "boolean", "object", "array", "number", "integer", "string")
_ANY_TYPE_BRANCHES = ("string", "number", "integer", "boolean", "object", "array", "null")
# Dropped: pure annotations that carry no constraint for the model.
_DROPPED = frozenset({"$schema", "$id", "$comment", "title", "examples", "readOnly", "writeOnly"})
# Unsupported constraints: described in text instead of dropped.
_DESCRIBED = (
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
_SCHEMA_MAPS = ("properties", "patternProperties")
_TYPE_KEYWORDS = {
    "properties": "object",
    "patternProperties": "object",
    "additionalProperties": "object",
    "required": "object",
    "items": "array",
    "prefixItems": "array",
}
_MAX_DEPTH = 64
# JSON containers (objects and arrays) one schema may nest: a schema level takes two (a property
# map and the property), so this is about 64 schema levels, far past any real tool, and well inside
# Python's recursion budget for the walks that follow (copy, normalize, JSON encoding).
_MAX_NESTING = 128


def normalize_schema(schema: Mapping[str, Any], *, require_object: bool = False) -> dict[str, Any]:
    """Return an MFJS-valid copy of a JSON Schema (the input is not modified).

    - local ``$ref``s are inlined (recursive ones stay, with their ``$defs`` moved to the root);
    - a missing ``type`` is inferred (``properties`` → object, ``items`` → array, ``enum``/``const``
      → the literal's type); a schema with no constraint at all becomes an ``anyOf`` of every type;
    - ``type: [..]`` lists, ``nullable`` and ``oneOf`` become ``anyOf``; a ``type`` beside ``anyOf``
      moves into the branches; ``allOf`` is merged;
    - tuple ``items: [..]`` become ``prefixItems``;
    - ``title``/``$schema``/``examples`` are dropped; unsupported constraints (``format``,
      ``minimum``, ``maxLength``…) are appended to ``description``.

    Args:
        schema: A JSON Schema object.
        require_object: Raise unless the root describes an object (tool ``parameters``).

    Returns:
        The normalized schema.

    Raises:
        ValueError: The schema is not a JSON object, uses an external ``$ref``, or (with
            ``require_object``) its root is not an object.
    """
    if not isinstance(schema, Mapping):
        raise ValueError(f"a JSON Schema must be an object, got {type(schema).__name__}")
    check_nesting(schema)
    root = copy.deepcopy(dict(schema))
    defs: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        found = root.pop(key, None)
        if isinstance(found, Mapping):
            defs.update({f"#/{key}/{name}": value for name, value in found.items()})
    normalizer = _Normalizer(defs, root)
    out = normalizer.node(root, "", ())
    if normalizer.kept_defs:
        out["$defs"] = normalizer.kept_defs
    if require_object and out.get("type") != "object":
        raise ValueError(
            "tool parameters must be a JSON Schema with type 'object' at the root, "
            f"got {out.get('type', 'no type')!r}"
        )
    return out


def check_nesting(value: object, limit: int = _MAX_NESTING) -> None:
    """Refuse a JSON value nested deeper than ``limit`` objects/arrays, without recursing.

    Raises:
        ValueError: Too deep; the message gives the path to the first too-deep node.
    """
    todo: list[tuple[object, int, tuple[str, ...]]] = [(value, 0, ())]
    while todo:
        node, depth, path = todo.pop()
        if isinstance(node, Mapping):
            items: Any = node.items()
        elif isinstance(node, list | tuple):
            items = enumerate(node)
        else:
            continue
        if depth >= limit:
            shown = ".".join(path)
            if len(shown) > 300:
                shown = f"{shown[:150]}…{shown[-150:]}"
            raise ValueError(
                f"At path '{shown}': the schema nests more than {limit} objects/arrays; flatten it "
                "or describe the deep part as a string"
            )
        todo.extend((child, depth + 1, (*path, str(key))) for key, child in items)


class _Normalizer:
    def __init__(self, defs: dict[str, Any], root: dict[str, Any]) -> None:
        self.defs = defs
        self.root = root
        self.kept_defs: dict[str, Any] = {}
        self.depth = 0

    def node(self, raw: Any, path: str, stack: tuple[str, ...]) -> dict[str, Any]:
        # Inlined $refs can nest a checked schema deeper again: count levels while walking too.
        self.depth += 1
        try:
            if self.depth > _MAX_NESTING // 2:
                raise ValueError(
                    f"At path '{path}': the schema (with its $refs inlined) nests more than "
                    f"{_MAX_NESTING // 2} levels; flatten it"
                )
            return self._node(raw, path, stack)
        finally:
            self.depth -= 1

    def _node(self, raw: Any, path: str, stack: tuple[str, ...]) -> dict[str, Any]:
        if isinstance(raw, bool):
            # true = anything, false = nothing; MFJS has neither, so spell "anything" out.
            return _any_of_everything() if raw else {"type": "null"}
        if not isinstance(raw, Mapping):
            raise ValueError(f"At path '{path or '<root>'}': a schema must be an object")
        if len(stack) > _MAX_DEPTH:
            raise ValueError(f"At path '{path}': schema nesting is too deep")
        node = dict(raw)
        if "$ref" in node:
            return self.ref(node, path, stack)
        for key in _DROPPED:
            node.pop(key, None)
        node.pop("$defs", None)
        node.pop("definitions", None)
        self.describe_constraints(node)
        if "allOf" in node:
            node = self.merge_all_of(node, path)
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if node.pop("nullable", False) is True:
            node = {"anyOf": [node, {"type": "null"}]}
        if isinstance(node.get("type"), list):
            node = self.split_type_list(node)
        if "anyOf" in node:
            return self.any_of(node, path, stack)
        self.infer_type(node)
        self.children(node, path, stack)
        return node

    def children(self, node: dict[str, Any], path: str, stack: tuple[str, ...]) -> None:
        for key in _SCHEMA_MAPS:
            if isinstance(node.get(key), Mapping):
                node[key] = {
                    name: self.node(sub, f"{path}.{key}.{name}".lstrip("."), stack)
                    for name, sub in node[key].items()
                }
        if isinstance(node.get("additionalProperties"), Mapping):
            node["additionalProperties"] = self.node(
                node["additionalProperties"], f"{path}.additionalProperties".lstrip("."), stack
            )
        items = node.get("items")
        if isinstance(items, list):
            node["prefixItems"] = items
            node.pop("items")
        elif isinstance(items, Mapping | bool):
            node["items"] = self.node(items, f"{path}.items".lstrip("."), stack)
        if isinstance(node.get("prefixItems"), list):
            node["prefixItems"] = [
                self.node(sub, f"{path}.prefixItems.{i}".lstrip("."), stack)
                for i, sub in enumerate(node["prefixItems"])
            ]

    def ref(self, node: dict[str, Any], path: str, stack: tuple[str, ...]) -> dict[str, Any]:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise ValueError(
                f"At path '{path or '<root>'}': only local $ref ('#/$defs/...') is supported, "
                f"got {ref!r}"
            )
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if ref in stack:
            # Recursive: MFJS allows it when the definition sits in the root $defs.
            name = ref.rsplit("/", 1)[-1]
            self.kept_defs.setdefault(name, {})
            return {"$ref": f"#/$defs/{name}"}
        target = self.root if ref == "#" else self.defs.get(ref)
        if target is None:
            raise ValueError(f"At path '{path or '<root>'}': $ref {ref!r} points to nothing")
        resolved = self.node({**target, **siblings}, path, (*stack, ref))
        name = ref.rsplit("/", 1)[-1]
        if name in self.kept_defs and not self.kept_defs[name]:
            self.kept_defs[name] = resolved
        return resolved

    def any_of(self, node: dict[str, Any], path: str, stack: tuple[str, ...]) -> dict[str, Any]:
        branches = node.pop("anyOf")
        if not isinstance(branches, list) or not branches:
            raise ValueError(f"At path '{path or '<root>'}': anyOf must be a non-empty list")
        shared_type = node.pop("type", None)
        normalized = []
        for i, raw_branch in enumerate(branches):
            branch = raw_branch
            if shared_type is not None and isinstance(branch, Mapping) and "type" not in branch:
                branch = {**branch, "type": shared_type}
            normalized.append(self.node(branch, f"{path}.anyOf.{i}".lstrip("."), stack))
        node["anyOf"] = normalized
        return node

    @staticmethod
    def merge_all_of(node: dict[str, Any], path: str) -> dict[str, Any]:
        parts = node.pop("allOf")
        if not isinstance(parts, list):
            raise ValueError(f"At path '{path or '<root>'}': allOf must be a list")
        merged: dict[str, Any] = {}
        for part in [*parts, node]:
            if not isinstance(part, Mapping):
                raise ValueError(f"At path '{path or '<root>'}': allOf entries must be objects")
            for key, value in part.items():
                if key == "properties" and isinstance(value, Mapping):
                    merged.setdefault("properties", {}).update(value)
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                else:
                    merged[key] = value
        return merged

    @staticmethod
    def split_type_list(node: dict[str, Any]) -> dict[str, Any]:
        types = [t for t in node.pop("type") if isinstance(t, str)]
        if len(types) == 1:
            return {**node, "type": types[0]}
        description = node.pop("description", None)
        branches = []
        for kind in types:
            # Keywords that belong to another type stay out of this branch; null takes none.
            branch = {
                key: value
                for key, value in node.items()
                if kind != "null" and _TYPE_KEYWORDS.get(key, kind) == kind
            }
            branches.append({"type": kind, **branch})
        out: dict[str, Any] = {"anyOf": branches}
        if description is not None:
            out["description"] = description
        return out

    @staticmethod
    def infer_type(node: dict[str, Any]) -> None:
        if "const" in node:
            node["enum"] = [node.pop("const")]
        if isinstance(node.get("type"), str):
            return
        if "properties" in node or "additionalProperties" in node or "required" in node:
            node["type"] = "object"
        elif "items" in node or "prefixItems" in node:
            node["type"] = "array"
        elif isinstance(node.get("enum"), list) and node["enum"]:
            node["type"] = _literal_type(node["enum"])
        else:
            node.update(_any_of_everything())

    @staticmethod
    def describe_constraints(node: dict[str, Any]) -> None:
        notes = [f"{key}: {node.pop(key)}" for key in _DESCRIBED if key in node]
        if notes:
            text = "; ".join(notes)
            current = node.get("description")
            node["description"] = f"{current} ({text})" if current else f"({text})"


def _literal_type(values: list[Any]) -> str:
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("number")
        elif value is None:
            kinds.add("null")
        else:
            kinds.add("string")
    if kinds <= {"integer", "number"} and "number" in kinds:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "string"


def _any_of_everything() -> dict[str, Any]:
    return {"anyOf": [{"type": t} for t in _ANY_TYPE_BRANCHES]}
