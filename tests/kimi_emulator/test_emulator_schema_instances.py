"""The brain's tool arguments are valid for every schema keyword, checked with ``jsonschema``.

Unit tests of ``schema_instance`` per keyword, then the same through HTTP: a forced tool call
whose arguments must validate, stream and non-stream, as Moonshot's verifier checks them.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from jsonschema import Draft202012Validator
from kimi_emulator import KimiEmulator
from kimi_emulator.schema_check import conforms
from kimi_emulator.schema_instance import instance

NODE = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "value": {"type": "string"},
                "next": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Node"}]},
            },
            "required": ["value", "next"],
        }
    },
    "type": "object",
    "properties": {"head": {"$ref": "#/$defs/Node"}},
    "required": ["head"],
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "ref_defs": {
        "$defs": {"User": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "type": "object",
        "properties": {"user": {"$ref": "#/$defs/User"}},
        "required": ["user"],
    },
    "ref_recursive_required": NODE,
    "ref_root_recursive": {
        "type": "object",
        "properties": {"child": {"$ref": "#"}, "name": {"type": "string"}},
        "required": ["name"],
    },
    "ref_mutual_recursion": {
        "$defs": {
            "a": {"type": "object", "properties": {"y": {"$ref": "#/$defs/b"}}},
            "b": {"type": "object", "properties": {"z": {"$ref": "#/$defs/a"}}},
        },
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/a"}},
        "required": ["x"],
    },
    "ref_json_pointer": {
        "$defs": {"player": {"type": "object", "properties": {"id": {"type": "integer"}}}},
        "type": "object",
        "properties": {"white": {"$ref": "#/$defs/player/properties/id"}},
        "required": ["white"],
    },
    "any_of": {
        "type": "object",
        "properties": {"v": {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "null"}]}},
        "required": ["v"],
    },
    "one_of_exclusive": {
        "type": "object",
        "properties": {"v": {"oneOf": [{"type": "integer"}, {"type": "number"}]}},
        "required": ["v"],
    },
    "all_of": {
        "type": "object",
        "properties": {
            "v": {"allOf": [{"type": "integer", "minimum": 10}, {"type": "integer", "maximum": 12}]}
        },
        "required": ["v"],
    },
    "enum_and_const": {
        "type": "object",
        "properties": {
            "colour": {"type": "string", "enum": ["red", "green"]},
            "level": {"type": "integer", "enum": [-2, 7]},
            "kind": {"type": "string", "const": "fixed"},
            "flag": {"type": ["boolean", "null"], "enum": [True]},
        },
        "required": ["colour", "level", "kind", "flag"],
    },
    "pattern_and_lengths": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
            "word": {"type": "string", "pattern": "^[a-z]+$", "minLength": 4, "maxLength": 6},
            "exact": {"type": "string", "minLength": 5, "maxLength": 5},
        },
        "required": ["code", "word", "exact"],
        "additionalProperties": False,
    },
    "pattern_regex_features": {
        "type": "object",
        "properties": {
            "lookahead": {"type": "string", "pattern": "^(?!x)[a-c]{2}$"},
            "backreference": {"type": "string", "pattern": "^(ab)\\1$"},
            "boundary": {"type": "string", "pattern": "\\bword\\b"},
        },
        "required": ["lookahead", "backreference", "boundary"],
    },
    "formats": {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "id": {"type": "string", "format": "uuid"},
            "small": {"type": "integer", "format": "int32"},
        },
        "required": ["when", "mail", "id", "small"],
    },
    "ranges": {
        "type": "object",
        "properties": {
            "a": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "b": {"type": "integer", "minimum": 100, "maximum": 100},
            "c": {"type": "number", "minimum": -10.5, "maximum": -3.25},
            "d": {"type": "integer", "multipleOf": 7, "minimum": 20},
            "e": {"type": "number", "multipleOf": 0.25, "minimum": 1.1},
        },
        "required": ["a", "b", "c", "d", "e"],
    },
    "arrays": {
        "type": "object",
        "properties": {
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "integer"}],
                "maxItems": 2,
            },
            "three": {"type": "array", "items": {"type": "integer"}, "minItems": 3},
            "unique": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b"]},
                "minItems": 2,
                "uniqueItems": True,
            },
            "none": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
        },
        "required": ["pair", "three", "unique", "none"],
    },
    "objects": {
        "type": "object",
        "properties": {
            "closed": {
                "type": "object",
                "properties": {"x": {"type": "string"}},
                "required": ["x"],
                "additionalProperties": False,
            },
            "open": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "minProperties": 2,
            },
        },
        "required": ["closed", "open"],
    },
    "empty_schemas": {
        "type": "object",
        "properties": {"value": {}},
        "additionalProperties": {},
        "required": ["value"],
        "minProperties": 2,
    },
    "type_arrays": {
        "type": "object",
        "properties": {
            "u": {"type": ["string", "null"]},
            "n": {"type": ["null"]},
            "m": {"type": ["integer", "string"], "minimum": 3},
        },
        "required": ["u", "n", "m"],
    },
}


class _NoHints:
    def string(self, name: str, schema: dict[str, Any]) -> str:
        return ""

    def number(self) -> float:
        return -1e9


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_instance_is_valid_and_deterministic(name: str) -> None:
    schema = SCHEMAS[name]
    value = instance(schema)
    Draft202012Validator(schema).validate(value)
    assert instance(schema) == value
    assert conforms(schema, value)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_unfitting_hints_are_not_used(name: str) -> None:
    schema = SCHEMAS[name]
    Draft202012Validator(schema).validate(instance(schema, _NoHints()))


def test_one_of_gets_a_value_matching_exactly_one_branch() -> None:
    value = instance(SCHEMAS["one_of_exclusive"])["v"]
    assert isinstance(value, float)
    assert not value.is_integer()


def test_recursive_schema_terminates_with_null() -> None:
    head = instance(NODE)["head"]
    depth = 0
    while head is not None:
        depth += 1
        head = head["next"]
    assert depth >= 1


def test_checker_rejects_what_jsonschema_rejects() -> None:
    schema = SCHEMAS["ranges"]
    wrong = {"a": 1, "b": 100, "c": -5, "d": 21, "e": 1.25}
    assert not Draft202012Validator(schema).is_valid(wrong)
    assert not conforms(schema, wrong)
    assert not conforms({"type": "integer"}, True)
    assert not conforms({"enum": [1]}, True)


def test_unsatisfiable_schema_gives_none_quickly() -> None:
    schema = {"type": "object", "properties": {"x": {"allOf": [{"type": "string"}, False]}}}
    schema["required"] = ["x"]
    assert instance(schema) is None


# ---- through HTTP ------------------------------------------------------------------------------
def _tool(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": "submit", "parameters": schema, "strict": True},
    }


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_forced_tool_call_arguments_validate(
    client: openai.OpenAI, kimi_emulator: KimiEmulator, name: str, stream: bool
) -> None:
    schema = SCHEMAS[name]
    request: dict[str, Any] = {
        "model": "kimi-k2.6",
        "messages": [{"role": "user", "content": "Call the tool with minimal arguments."}],
        "tools": [_tool(schema)],
        "tool_choice": "required",
        "extra_body": {"thinking": {"type": "disabled"}},
    }
    if stream:
        arguments = "".join(
            call.function.arguments or ""
            for chunk in client.chat.completions.create(**request, stream=True)
            for choice in chunk.choices
            for call in choice.delta.tool_calls or []
            if call.function is not None
        )
    else:
        reply = client.chat.completions.create(**request)
        calls = reply.choices[0].message.tool_calls or []
        assert [call.function.name for call in calls] == ["submit"]  # type: ignore[union-attr]
        arguments = calls[0].function.arguments  # type: ignore[union-attr]
    Draft202012Validator(schema).validate(json.loads(arguments))
    assert kimi_emulator.chat_requests[-1]["tools"][0]["function"]["parameters"] == schema


def test_user_values_fill_slots_only_when_valid(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "zip": {"type": "string", "pattern": "^\\d{5}$"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "zip", "days"],
    }
    reply = client.chat.completions.create(
        model="kimi-k2.6",
        messages=[{"role": "user", "content": 'Use submit for "Paris", 3 days'}],
        tools=[_tool(schema)],
        extra_body={"thinking": {"type": "disabled"}},
    )
    calls = reply.choices[0].message.tool_calls or []
    arguments = json.loads(calls[0].function.arguments)  # type: ignore[union-attr]
    Draft202012Validator(schema).validate(arguments)
    assert arguments["city"] == "Paris"
    assert arguments["days"] == 3
