"""A small JSON-Schema (2020-12) checker for the brain's own candidates.

The brain builds tool arguments and structured answers from a schema (``schema_instance``) and
uses this to accept a value the user's words suggest only when it is valid, and to pick among
``oneOf`` branches. It covers the assertion keywords an MFJS tool schema can use (types, enum,
const, ranges, lengths, pattern, object and array keywords, the combinators, local ``$ref``);
annotations such as ``format`` are not asserted, as in the default of common validators.
Deliberately not a general validator: the emulator keeps light runtime dependencies.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

__all__ = ["conforms", "json_equal", "resolve_ref"]

_MAX_DEPTH = 64
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()
    ),
}


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def resolve_ref(root: Any, ref: str) -> Any:
    """The sub-schema a local ``$ref`` (``#`` or a ``#/...`` JSON pointer) points at, or None."""
    if ref in {"#", ""}:
        return root
    if not ref.startswith("#/"):
        return None
    node = root
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and (isinstance(a, int | float) == isinstance(b, int | float))


def conforms(schema: Any, value: Any, root: Any = None, depth: int = 0) -> bool:
    """Whether ``value`` satisfies ``schema`` (``root`` resolves ``$ref``; default: schema)."""
    root = schema if root is None else root
    if schema is True or schema == {}:
        return True
    if schema is False or not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return False
    if "$ref" in schema:
        target = resolve_ref(root, str(schema["$ref"]))
        if target is None or not conforms(target, value, root, depth + 1):
            return False
    return all(
        check(schema, value, root, depth)
        for check in (_type_enum, _combinators, _number, _string, _array, _object)
    )


def _type_enum(schema: dict[str, Any], value: Any, root: Any, depth: int) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if kinds and not any(_TYPES.get(k, lambda _: False)(value) for k in kinds):
        return False
    if "const" in schema and not json_equal(schema["const"], value):
        return False
    enum = schema.get("enum")
    return not (isinstance(enum, list) and not any(json_equal(item, value) for item in enum))


def _combinators(schema: dict[str, Any], value: Any, root: Any, depth: int) -> bool:
    if any(not conforms(s, value, root, depth + 1) for s in schema.get("allOf") or []):
        return False
    any_of = schema.get("anyOf")
    if any_of and not any(conforms(s, value, root, depth + 1) for s in any_of):
        return False
    one_of = schema.get("oneOf")
    if one_of and sum(conforms(s, value, root, depth + 1) for s in one_of) != 1:
        return False
    return not ("not" in schema and conforms(schema["not"], value, root, depth + 1))


def _number(schema: dict[str, Any], value: Any, root: Any, depth: int) -> bool:
    if not _TYPES["number"](value):
        return True
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        return False
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        return False
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        if isinstance(step, int) and isinstance(value, int):
            return value % step == 0
        # As strict as the common validators: the float quotient must be a whole number.
        quotient = value / step
        return math.isfinite(quotient) and quotient == int(quotient)
    return True


def _string(schema: dict[str, Any], value: Any, root: Any, depth: int) -> bool:
    if not isinstance(value, str):
        return True
    if "minLength" in schema and len(value) < schema["minLength"]:
        return False
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        compiled = _regex(pattern)
        return compiled is not None and compiled.search(value) is not None
    return True


def _array(schema: dict[str, Any], value: Any, root: Any, depth: int) -> bool:
    if not isinstance(value, list):
        return True
    if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", math.inf):
        return False
    prefix = schema.get("prefixItems") or []
    for item, item_schema in zip(value, prefix, strict=False):
        if not conforms(item_schema, item, root, depth + 1):
            return False
    rest = schema.get("items")
    tail = value[len(prefix) :]
    if rest is not None and any(not conforms(rest, item, root, depth + 1) for item in tail):
        return False
    if schema.get("uniqueItems"):
        for index, item in enumerate(value):
            if any(json_equal(item, other) for other in value[index + 1 :]):
                return False
    contains = schema.get("contains")
    if contains is not None:
        found = sum(conforms(contains, item, root, depth + 1) for item in value)
        if found < schema.get("minContains", 1) or found > schema.get("maxContains", math.inf):
            return False
    return True


def _object(schema: dict[str, Any], value: Any, root: Any, depth: int) -> bool:
    if not isinstance(value, dict):
        return True
    if any(key not in value for key in schema.get("required") or []):
        return False
    if not schema.get("minProperties", 0) <= len(value) <= schema.get("maxProperties", math.inf):
        return False
    properties = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        matched = False
        if key in properties:
            matched = True
            if not conforms(properties[key], item, root, depth + 1):
                return False
        for pattern, pattern_schema in patterns.items():
            compiled = _regex(pattern)
            if compiled is not None and compiled.search(key):
                matched = True
                if not conforms(pattern_schema, item, root, depth + 1):
                    return False
        if not matched and extra is not None and not conforms(extra, item, root, depth + 1):
            return False
    names = schema.get("propertyNames")
    return names is None or all(conforms(names, key, root, depth + 1) for key in value)
