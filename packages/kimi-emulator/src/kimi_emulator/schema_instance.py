"""Deterministic instances of a JSON schema: the brain's tool arguments and structured answers.

Every value is built from the schema's own constraints (``$ref``/``$defs`` including recursive
ones, ``anyOf``/``oneOf``/``allOf``, ``enum``, ``const``, ``pattern``, ``format``, ranges and
``multipleOf``, lengths, ``required``, ``additionalProperties``, ``prefixItems``, type arrays)
and then checked with ``schema_check.conforms``; a value the user's words suggest (``Hints``) is
used only where it is valid. The same schema and hints give the same value.

Why not a library: hypothesis-jsonschema generates from these schemas but is a test-time,
randomised search (hypothesis strategies, ``.example()`` is not meant for production and is
not reproducible); a server answering requests needs one cheap, repeatable value. For
``pattern`` we do use a library: ``rstr`` (BSD, pure Python, no dependencies) draws strings
from a regex with a seeded ``random.Random``.
"""

from __future__ import annotations

import json
import math
import random
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import rstr

from kimi_emulator.schema_check import conforms, json_equal, resolve_ref

__all__ = ["Hints", "instance"]

_SOFT_DEPTH = 6  # past this, build only what is required (recursive schemas terminate)
_HARD_DEPTH = 48
_MAX_NODES = 20_000  # bounds the work on schemas whose branches all fail deep down
_PATTERN_DRAWS = 24
_MAX_LENGTH = 1_000_000
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/",
    "iri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri-reference": "https://example.com/",
    "uri-template": "https://example.com/{id}",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "json-pointer": "/a",
    "relative-json-pointer": "0",
    "regex": "^a$",
}
_INT_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "patternProperties")
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems")
_STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


class Hints(Protocol):
    """Values taken from the user's message, offered for slots of the matching type."""

    def string(self, name: str, schema: dict[str, Any]) -> str:
        """A string for the property ``name``."""
        ...

    def number(self) -> float:
        """The next number."""
        ...


class _Unsatisfied(Exception):
    """No valid value found for a sub-schema (too deep, or contradictory)."""


def instance(schema: Any, hints: Hints | None = None, name: str = "") -> Any:
    """A value valid for ``schema``; None when the schema admits none the brain can build."""
    seed = zlib.crc32(json.dumps([schema, name], sort_keys=True, default=str).encode())
    builder = _Builder(schema, hints, random.Random(seed))  # noqa: S311 - repeatable, not secret
    try:
        return builder.value(schema, name, 0, minimal=False)
    except _Unsatisfied:
        return None


def _infer_types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list) and kind:
        # null last: a real value says more, and a null is the fallback that always works.
        return sorted((str(k) for k in kind), key=lambda k: k == "null")
    for keys, inferred in (
        (_OBJECT_KEYS, "object"),
        (_ARRAY_KEYS, "array"),
        (_STRING_KEYS, "string"),
        (_NUMBER_KEYS, "number"),
    ):
        if any(key in schema for key in keys):
            return [inferred]
    return ["string", "object", "null"]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """One schema asking for both (good enough to build from; the result is checked anyway)."""
    merged = dict(base)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties":
            properties = dict(merged[key])
            for prop, prop_schema in value.items():
                both = {"allOf": [properties[prop], prop_schema]}
                properties[prop] = both if prop in properties else prop_schema
            merged[key] = properties
        elif key == "required":
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif key == "type":
            merged[key] = _common_types(merged[key], value)
        elif key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"):
            merged[key] = max(merged[key], value)
        elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"):
            merged[key] = min(merged[key], value)
        elif key == "enum":
            merged[key] = [item for item in merged[key] if item in value]
        elif merged[key] != value:
            merged["allOf"] = [*merged.get("allOf", []), {key: value}]
    return merged


def _common_types(a: Any, b: Any) -> list[str]:
    left = set(a if isinstance(a, list) else [a])
    right = set(b if isinstance(b, list) else [b])
    common = left & right
    if "integer" in left | right and "number" in left | right:
        common.add("integer")
    return sorted(common)


class _Builder:
    def __init__(self, root: Any, hints: Hints | None, rng: random.Random) -> None:
        self.root = root
        self.hints = hints
        self.patterns = rstr.Rstr(rng)
        self.nodes = 0

    def value(self, schema: Any, name: str, depth: int, *, minimal: bool, index: int = 0) -> Any:
        """The first value for ``schema`` that passes ``conforms``, or ``_Unsatisfied``."""
        for candidate in self._valid(schema, name, depth, minimal, index):
            return candidate
        raise _Unsatisfied(name)

    def _valid(self, schema: Any, name: str, depth: int, minimal: bool, index: int) -> Any:
        """Every candidate for ``schema`` that passes ``conforms``, in order of preference."""
        self.nodes += 1
        if depth > _HARD_DEPTH or self.nodes > _MAX_NODES:
            raise _Unsatisfied(name)
        if schema is True or schema == {} or not isinstance(schema, dict):
            if schema is False:
                raise _Unsatisfied(name)
            yield from self._strings({}, name, index, minimal=minimal)
            return
        minimal = minimal or depth > _SOFT_DEPTH
        for candidate in self._candidates(schema, name, depth, minimal, index):
            if conforms(schema, candidate, self.root):
                yield candidate

    def _candidates(
        self, schema: dict[str, Any], name: str, depth: int, minimal: bool, index: int
    ) -> Any:
        """Values to try in order (lazily: later ones are built only when needed)."""
        if "$ref" in schema:
            target = resolve_ref(self.root, str(schema["$ref"]))
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            combined = _merge(target, rest) if isinstance(target, dict) else rest
            yield from self._attempt(combined, name, depth + 1, minimal, index)
            return
        if schema.get("allOf"):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for branch in schema["allOf"]:
                part = branch
                if isinstance(branch, dict) and "$ref" in branch:
                    target = resolve_ref(self.root, str(branch["$ref"]))
                    part = _merge(target, branch) if isinstance(target, dict) else branch
                    part = {k: v for k, v in part.items() if k != "$ref"}
                if isinstance(part, dict):
                    merged = _merge(merged, part)
            yield from self._attempt(merged, name, depth + 1, minimal, index)
            return
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                branches = list(schema[key])
                if minimal:  # prefer branches that do not recurse
                    branches.sort(key=lambda b: "$ref" in json.dumps(b))
                for branch in branches:
                    combined = _merge(base, branch) if isinstance(branch, dict) else base
                    yield from self._attempt(combined, name, depth + 1, minimal, index)
                return
        if "const" in schema:
            yield schema["const"]
            return
        enum = schema.get("enum")
        if isinstance(enum, list):
            if self.hints is not None and not minimal and all(isinstance(e, str) for e in enum):
                yield self.hints.string(name, schema)
            yield from enum[index % len(enum) :] if enum else []
            yield from enum[: index % len(enum)] if enum else []
            return
        for kind in _infer_types(schema):
            try:
                values = self._typed(kind, schema, name, depth, minimal=minimal, index=index)
            except _Unsatisfied:
                continue
            yield from values

    def _attempt(
        self, schema: dict[str, Any], name: str, depth: int, minimal: bool, index: int
    ) -> Any:
        try:
            yield from self._valid(schema, name, depth, minimal, index)
        except _Unsatisfied:
            return

    def _typed(
        self, kind: str, schema: dict[str, Any], name: str, depth: int, *, minimal: bool, index: int
    ) -> Iterable[Any]:
        if kind == "object":
            return [self._object(schema, depth, minimal)]
        if kind == "array":
            return [self._array(schema, name, depth, minimal)]
        if kind in ("integer", "number"):
            return self._numbers(schema, kind == "integer", index, minimal=minimal)
        if kind == "boolean":
            return [index % 2 == 0, index % 2 != 0]
        if kind == "null":
            return [None]
        if kind == "string":
            return self._strings(schema, name, index, minimal=minimal)
        raise _Unsatisfied(kind)

    def _property_schema(self, schema: dict[str, Any], key: str) -> Any:
        properties = schema.get("properties") or {}
        if key in properties:
            return properties[key]
        for pattern, pattern_schema in (schema.get("patternProperties") or {}).items():
            if conforms({"pattern": pattern}, key):
                return pattern_schema
        extra = schema.get("additionalProperties")
        return {} if extra is None or extra is True else extra

    def _object(self, schema: dict[str, Any], depth: int, minimal: bool) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = [str(key) for key in schema.get("required") or []]
        result: dict[str, Any] = {}
        for key in required:
            result[key] = self.value(
                self._property_schema(schema, key), key, depth + 1, minimal=minimal
            )
        # No required list: fill the declared properties (the user's words go into them),
        # skipping any that cannot be built within the depth budget.
        optional = [key for key in properties if key not in result]
        wanted = 0 if minimal or required else len(optional)
        wanted = max(wanted, int(schema.get("minProperties") or 0) - len(result))
        for key in optional:
            if wanted <= 0 or len(result) >= schema.get("maxProperties", math.inf):
                break
            try:
                result[key] = self.value(properties[key], key, depth + 1, minimal=True)
                wanted -= 1
            except _Unsatisfied:
                continue
        extra = schema.get("additionalProperties")
        counter = 0
        while len(result) < int(schema.get("minProperties") or 0) and extra is not False:
            counter += 1
            result[f"extra_{counter}"] = self.value(
                {} if extra in (None, True) else extra, "extra", depth + 1, minimal=True
            )
        return result

    def _array(self, schema: dict[str, Any], name: str, depth: int, minimal: bool) -> list[Any]:
        prefix = list(schema.get("prefixItems") or [])
        items = schema.get("items")
        low = int(schema.get("minItems") or 0)
        high = schema.get("maxItems", math.inf)
        if items is False:
            high = min(high, len(prefix))
        count = low if minimal else max(low, len(prefix) or 1)
        count = int(min(count, high))
        if count < low:
            raise _Unsatisfied(name)
        unique = bool(schema.get("uniqueItems"))
        result: list[Any] = []
        for position in range(count):
            item_schema = prefix[position] if position < len(prefix) else items
            item_schema = {} if item_schema in (None, True) else item_schema
            for candidate in self._valid(item_schema, name, depth + 1, minimal, position):
                if not unique or not any(json_equal(candidate, seen) for seen in result):
                    result.append(candidate)
                    break
            else:
                raise _Unsatisfied(name)
        return result

    def _numbers(
        self, schema: dict[str, Any], integer: bool, index: int, *, minimal: bool
    ) -> list[int | float]:
        low, high = _INT_FORMATS.get(str(schema.get("format")), (-math.inf, math.inf))
        if "minimum" in schema:
            low = max(low, schema["minimum"])
        if "maximum" in schema:
            high = min(high, schema["maximum"])
        open_low = schema.get("exclusiveMinimum")
        open_high = schema.get("exclusiveMaximum")
        step = schema.get("multipleOf")
        candidates: list[float] = []
        if self.hints is not None and not minimal:
            candidates.append(self.hints.number())
        candidates += [1 + index, index, 0, 1]
        for bound in (low, high, open_low, open_high):
            if isinstance(bound, int | float) and math.isfinite(bound):
                candidates += [bound, bound + 1 + index, bound - 1 - index]
        finite_low = max(v for v in (low, open_low, -math.inf) if v is not None)
        finite_high = min(v for v in (high, open_high, math.inf) if v is not None)
        if math.isfinite(finite_low) and math.isfinite(finite_high):
            candidates.append((finite_low + finite_high) / 2)
        if not integer:  # oneOf [integer, number] needs a number that is not an integer
            candidates.append(0.5 + index)
        if isinstance(step, int | float) and step > 0:
            stepped = []
            for value in candidates:
                if math.isfinite(value):
                    multiple = math.ceil(value / step) * step
                    stepped += [multiple, multiple + step]
            candidates = [0, *stepped]
        shaped: list[int | float] = []
        for value in candidates:
            if not math.isfinite(value):
                continue
            if integer or (float(value).is_integer() and abs(value) < 2**53):
                shaped.append(math.ceil(value))
            else:
                shaped.append(value)
        return shaped

    def _strings(
        self, schema: dict[str, Any], name: str, index: int, *, minimal: bool
    ) -> Iterator[str]:
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength", math.inf)
        if low > _MAX_LENGTH or low > high:
            raise _Unsatisfied(name)
        return self._string_candidates(schema, name, index, minimal=minimal)

    def _string_candidates(
        self, schema: dict[str, Any], name: str, index: int, *, minimal: bool
    ) -> Iterator[str]:
        """Lazily: a pattern's draws are made only while no earlier candidate fitted."""
        if self.hints is not None and not minimal:
            yield self.hints.string(name, schema)
        fmt = _FORMATS.get(str(schema.get("format")))
        if fmt is not None:
            yield fmt
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            for _ in range(_PATTERN_DRAWS):
                # rstr raises assorted errors on regex features it cannot expand
                # (look-arounds, back-references): the other candidates remain.
                try:
                    yield self.patterns.xeger(pattern)
                except Exception:
                    break
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength", math.inf)
        base = f"example {name}".strip() + (f" {index}" if index else "")
        yield base
        yield base[: int(min(high, len(base)))].ljust(low, "x")
