"""The benchmark's own checks: a fast-but-wrong client must not pass, and verdicts follow data.

No timing is asserted here; these tests pin the harness logic (completeness, growth exponent,
target verdicts) and that its reference answer matches what the emulator really streams.
"""

from __future__ import annotations

import math

import pytest
from bench_answer import Answer, Expected, missing_parts
from bench_clients import HttpxFloor, RawSDK, reference_answer
from bench_measure import growth_exponent
from bench_report import evaluate

COMPLETE = Answer("word word ", "think think ", (10, 20, 30), chunks=5)


def test_complete_answer_has_nothing_missing() -> None:
    assert missing_parts(COMPLETE, COMPLETE, streamed=True) == []


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        (Answer("word ", "think think ", (10, 20, 30)), ["text"]),
        (Answer("word word ", None, (10, 20, 30)), ["reasoning"]),
        (Answer("word word ", "think think ", None), ["usage"]),
        (Answer("word word ", "think think ", (10, 19, 29)), ["usage"]),
        (Answer("word word ", "think think ", (10, 20, 31)), ["usage"]),
        (Answer("", None, None), ["text", "reasoning", "usage"]),
    ],
)
def test_incomplete_answers_are_named(answer: Answer, missing: list[str]) -> None:
    assert missing_parts(answer, COMPLETE) == missing


def test_input_tokens_may_differ_but_must_add_up() -> None:
    answer = Answer("word word ", "think think ", (12, 20, 32))
    assert missing_parts(answer, COMPLETE) == []


def test_a_stream_that_quietly_became_one_response_is_flagged() -> None:
    answer = Answer("word word ", "think think ", (10, 20, 30), chunks=1)
    assert missing_parts(answer, COMPLETE, streamed=True) == ["stream"]
    assert missing_parts(answer, COMPLETE) == []


def test_growth_exponent() -> None:
    assert growth_exponent((1000, 1.0), (4000, 4.0)) == pytest.approx(1.0)
    assert growth_exponent((1000, 1.0), (4000, 16.0)) == pytest.approx(2.0)
    assert math.isnan(growth_exponent((1000, 0.0), (4000, 1.0)))


def _results(ratio: float, missing: list[str], floor_ratio: float) -> dict[str, object]:
    def row(value: float, missing: list[str]) -> dict[str, object]:
        return {"value": value, "ratio": value, "missing": missing, "error": None}

    clients = {
        "sdk": row(1.0, []),
        "chatkimi": row(ratio, missing),
        "lc-floor": row(floor_ratio, []),
    }
    return {"S2": {"clients": clients}, "S2 paced": {"clients": clients}}


def _verdict(results: dict[str, object]) -> str:
    rows = {row["target"]: row for row in evaluate(results)}
    return str(rows["S2: ChatKimi <= 0.80 x raw SDK"]["verdict"])


def test_fast_but_incomplete_client_does_not_meet_its_target() -> None:
    assert _verdict(_results(0.1, ["reasoning"], 0.2)).startswith("NOT MET (incomplete")


def test_verdicts() -> None:
    assert _verdict(_results(0.5, [], 0.2)) == "MET"
    assert _verdict(_results(0.9, [], 0.2)) == "NOT MET"
    assert _verdict(_results(0.9, [], 0.85)) == "NOT MET (framework floor 0.85 > 0.80)"


def test_reference_matches_what_the_emulator_streams(kimi_emulator) -> None:
    size = Expected(40, 7)
    reference = reference_answer(kimi_emulator.base_url, kimi_emulator.api_key, size)
    assert reference.text
    assert reference.reasoning
    assert reference.usage
    for cls in (HttpxFloor, RawSDK):
        client = cls(kimi_emulator.base_url, kimi_emulator.api_key, size)
        streamed = client.stream()
        assert missing_parts(streamed, reference, streamed=True) == []
        assert streamed.chunks >= 40 + 7
        assert missing_parts(client.invoke(), reference) == []
    smaller = reference_answer(kimi_emulator.base_url, kimi_emulator.api_key, Expected(20, 7))
    assert missing_parts(smaller, reference) == ["reasoning", "usage"]


def _by_label(results: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(row["target"]): row for row in evaluate(results)}


def test_paced_targets_compare_with_the_httpx_floor() -> None:
    def row(value: float) -> dict[str, object]:
        return {"value": value, "ratio": value, "missing": [], "error": None}

    clients = {"sdk": row(1.0), "httpx": row(0.4), "chatkimi": row(0.5), "lc-floor": row(0.6)}
    verdict = _by_label({"S2 paced": {"clients": clients}})[
        "S2 paced: ChatKimi <= 1.30 x httpx + json.loads"
    ]
    assert verdict["value"] == pytest.approx(1.25)
    assert verdict["verdict"] == "MET"
    clients["chatkimi"] = row(0.56)
    verdict = _by_label({"S2 paced": {"clients": clients}})[
        "S2 paced: ChatKimi <= 1.30 x httpx + json.loads"
    ]
    assert verdict["verdict"] == "NOT MET (framework floor 1.50 > 1.30)"


def test_growth_targets_read_each_path_and_need_complete_answers() -> None:
    def row(exponent: float, missing: list[str] | None = None) -> dict[str, object]:
        return {"exponent": exponent, "missing": missing or [], "error": None}

    results = {
        "S9": {
            "paths": {
                "stream": {"kimi-per-event": row(1.31), "li-floor": row(1.40), "kimi": row(0.98)},
                "one message": {"kimi": row(1.01, ["reasoning"])},
            }
        }
    }
    rows = _by_label(results)
    assert rows["S9 stream growth exponent, Kimi (LlamaIndex) <= 1.05"]["verdict"] == "MET"
    per_event = rows["S9 stream growth exponent, Kimi (LlamaIndex, per event) <= 1.05"]
    assert per_event["verdict"] == "NOT MET (framework floor 1.40 > 1.05)"
    message = rows["S9 one message growth exponent, Kimi (LlamaIndex) <= 1.05"]
    assert message["verdict"] == "NOT MET (incomplete: reasoning)"
    assert rows["S9 stream growth exponent, ChatKimi <= 1.05"]["verdict"] == "NOT MEASURED"


def test_time_to_first_token_targets_are_milliseconds_over_the_sdk() -> None:
    paths = {"ChatKimi.stream": {"over_sdk_ms": 0.4}, "Kimi.stream_chat": {"over_sdk_ms": 2.5}}
    rows = _by_label({"S8": {"paths": paths}})
    label = "S8: {} <= 1 ms over the raw SDK to the first token"
    assert rows[label.format("ChatKimi.stream")]["verdict"] == "MET"
    assert rows[label.format("Kimi.stream_chat")]["verdict"] == "NOT MET"
    assert rows[label.format("ChatKimi.astream")]["verdict"] == "NOT MEASURED"


def test_a_loopback_figure_is_met_only_with_its_paced_twin() -> None:
    results = _results(0.5, [], 0.2)
    paced = dict(results["S2 paced"]["clients"])  # type: ignore[index]
    paced["chatkimi"] = {"value": 0.9, "ratio": 0.9, "missing": [], "error": None}
    results["S2 paced"] = {"clients": paced}
    assert _verdict(results) == "MET on loopback only (paced 0.90)"
    del results["S2 paced"]
    assert _verdict(results) == "MET on loopback; paced twin not measured"


def test_the_batch_scenario_runs_on_the_current_adapters() -> None:
    # S7 comes last in a full run: an adapter refactor must not break it an hour in.
    from bench_batch import run_batch_scenario

    result = run_batch_scenario(lines=20, samples=1)
    assert len(result["rows"]) == 7
    assert all(value > 0 for value in result["rows"].values())
