"""The Batch API client against the emulator's /v1/batches: lines, limits, splitting, results."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest
from kimi_core import (
    WEB_SEARCH,
    BatchInputs,
    ChatRequest,
    ChatResult,
    ChatSettings,
    ContentFilterError,
    KimiClient,
    Message,
    build_chat_request,
    raise_first_error,
)
from kimi_core.batch import BatchPolling
from kimi_core.batch_job import BatchJob
from kimi_core.batch_lines import BatchRequestError
from kimi_core.pricing import BATCH_PRICE_FACTOR, estimate_cost
from kimi_emulator import EmulatorConfig, KimiEmulator

FAST = BatchPolling(initial=0.02, maximum=0.1, timeout=60)


@pytest.fixture(scope="module")
def batch_server() -> Iterator[KimiEmulator]:
    # An emulated hour per 36 ms: stage and request durations stay realistic, tests stay fast.
    with KimiEmulator(config=EmulatorConfig(batch_time_scale=100_000)) as emulator:
        yield emulator


@pytest.fixture
def emu(batch_server: KimiEmulator, monkeypatch: pytest.MonkeyPatch) -> KimiEmulator:
    batch_server.reset()
    # Tests change the emulated durations; monkeypatch puts the defaults back.
    for name in ("batch_stage_seconds", "batch_request_seconds"):
        monkeypatch.setattr(batch_server.config, name, getattr(batch_server.config, name))
    return batch_server


@pytest.fixture
def bclient(emu: KimiEmulator) -> KimiClient:
    return KimiClient(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)


def _requests(n: int, model: str = "kimi-k2.6", **settings: object):
    settings.setdefault("thinking", False)
    return [
        build_chat_request(
            [Message.user(f"Say exactly: answer {i}")],
            ChatSettings(model=model, **settings),  # type: ignore[arg-type]
        )
        for i in range(n)
    ]


def _uploaded_lines(emu: KimiEmulator, file_id: str) -> list[dict]:
    return [json.loads(line) for line in emu.files.get(file_id).data.splitlines()]


def test_run_uploads_the_request_bodies_and_returns_answers_in_order(emu, bclient):
    requests = _requests(5)
    seen = []
    job, results = bclient.batches.run(
        requests, polling=FAST, on_progress=seen.append, metadata={"job": "t1"}
    )
    [part] = job.parts
    uploaded = _uploaded_lines(emu, part.input_file_id)
    assert emu.files.get(part.input_file_id).purpose == "batch"
    assert [line["custom_id"] for line in uploaded] == job.custom_ids
    assert all(
        line["method"] == "POST" and line["url"] == "/v1/chat/completions" for line in uploaded
    )
    assert [line["body"] for line in uploaded] == [r.body for r in requests]
    creates = [r.body for r in emu.requests if r.path == "/v1/batches" and r.method == "POST"]
    assert creates == [
        {
            "input_file_id": part.input_file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "metadata": {"job": "t1"},
        }
    ]
    assert [r.text for r in results] == [f"answer {i}" for i in range(5)]
    assert all(isinstance(r, ChatResult) and r.usage and r.usage.output_tokens for r in results)
    assert seen[-1].status == "completed"
    assert (seen[-1].total, seen[-1].completed, seen[-1].failed) == (5, 5, 0)


def test_a_batched_line_gets_the_online_answer(emu, bclient):
    request = _requests(1)[0]
    online = bclient.complete(request)
    _, [batched] = bclient.batches.run([request], polling=FAST)
    assert isinstance(batched, ChatResult)
    assert (batched.text, batched.finish_reason) == (online.text, online.finish_reason)
    assert batched.usage is not None
    assert online.usage is not None
    assert batched.usage.input_tokens == online.usage.input_tokens


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: _requests(1, temperature=0.6), "sampling fields (temperature)"),
        (
            lambda: _requests(1, model="kimi-k3", thinking=None),
            "kimi-k3 is not served by the Batch API",
        ),
        (
            lambda: [build_chat_request([Message.user("hi")], ChatSettings(), stream=True)],
            "cannot stream",
        ),
        (
            lambda: [
                build_chat_request(
                    [Message.user("search")], ChatSettings(thinking=False), tools=[WEB_SEARCH]
                )
            ],
            "$web_search",
        ),
    ],
)
def test_requests_a_batch_cannot_take_fail_before_any_upload(emu, bclient, build, problem):
    with pytest.raises(ValueError, match="request 0") as info:
        bclient.batches.submit(build())
    assert problem in str(info.value)
    assert emu.requests == []


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"completion_window": "6h"}, "completion_window"),
        ({"completion_window": "8d"}, "completion_window"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16"),
        ({"custom_ids": ["a", "a"]}, "unique"),
        ({"custom_ids": ["a"]}, "one per request"),
    ],
)
def test_bad_job_options_fail_before_any_upload(emu, bclient, options, problem):
    with pytest.raises(ValueError, match=problem):
        bclient.batches.submit(_requests(2), **options)
    assert emu.requests == []


def test_a_job_over_one_file_is_split_and_results_keep_input_positions(emu, bclient):
    requests = _requests(30)
    size = len(json.dumps({"custom_id": "request-10", "body": requests[0].body})) + 60
    job, results = bclient.batches.run(requests, polling=FAST, max_file_bytes=size * 4)
    assert len(job.parts) == 8
    assert all(len(_uploaded_lines(emu, p.input_file_id)) <= 4 for p in job.parts)
    assert sum(len(p.positions) for p in job.parts) == 30
    assert [r.text for r in results] == [f"answer {i}" for i in range(30)]


def test_one_model_per_file_and_a_failed_batch_fails_only_its_requests(emu, bclient):
    # A proxy model id passes the client (the server decides); the emulator's Batch API does not
    # serve it, so that batch fails validation while the kimi-k2.6 one completes.
    requests = _requests(4)
    requests[1:3] = _requests(2, model="my-proxy-model")
    job, results = bclient.batches.run(requests, polling=FAST)
    assert [p.model for p in job.parts] == ["kimi-k2.6", "my-proxy-model"]
    assert [p.positions for p in job.parts] == [[0, 3], [1, 2]]
    statuses = [bclient.batches.get(batch_id).status for batch_id in job.batch_ids]
    assert statuses == ["completed", "failed"]
    assert isinstance(results[0], ChatResult)
    assert isinstance(results[3], ChatResult)
    for failed in results[1:3]:
        assert isinstance(failed, BatchRequestError)
        assert failed.code == "batch_failed"
        assert "not supported by the Batch API" in str(failed)


def test_a_failing_line_does_not_fail_the_batch(emu, bclient):
    requests = _requests(3)
    requests[1] = build_chat_request(
        [Message.user(f"tell me {emu.config.content_filter_trigger}")],
        ChatSettings(thinking=False),
    )
    job, results = bclient.batches.run(requests, polling=FAST)
    batch = bclient.batches.get(job.batch_ids[0])
    assert (batch.status, batch.completed, batch.failed) == ("completed", 2, 1)
    assert batch.output_file_id
    assert batch.error_file_id
    assert isinstance(results[1], ContentFilterError)
    assert results[1].status == 400
    assert [results[0].text, results[2].text] == ["answer 0", "answer 2"]


def test_cancel_keeps_the_answers_so_far(emu, bclient, monkeypatch):
    monkeypatch.setattr(emu.config, "batch_request_seconds", 2000.0)  # 20 ms per line
    job = bclient.batches.submit(_requests(200))
    for _ in range(2000):
        if bclient.batches.status(job).completed >= 3:
            break
        time.sleep(0.01)
    cancelling = bclient.batches.cancel_job(job)
    assert cancelling.status == "cancelling"
    final = bclient.batches.wait(job, polling=FAST)
    assert final.status == "cancelled"
    results = bclient.batches.results(job)
    answered = [r for r in results if isinstance(r, ChatResult)]
    stopped = [r for r in results if isinstance(r, BatchRequestError)]
    assert 3 <= len(answered) < 200
    assert len(answered) + len(stopped) == 200
    assert all(r.code == "batch_cancelled" for r in stopped)
    # Answers are the first lines, in order: the batch stopped where the cancel found it.
    assert [r.text for r in results[: len(answered)]] == [
        f"answer {i}" for i in range(len(answered))
    ]
    assert (final.completed, final.failed) == (len(answered), len(stopped))


def test_expiry_answers_what_fit_in_the_window(emu, bclient, monkeypatch):
    # An emulated hour per request and a 12h window: exactly 12 requests run.
    monkeypatch.setattr(emu.config, "batch_stage_seconds", 0.0)
    monkeypatch.setattr(emu.config, "batch_request_seconds", 3600.0)
    job, results = bclient.batches.run(_requests(20), polling=FAST, completion_window="12h")
    batch = bclient.batches.get(job.batch_ids[0])
    assert batch.status == "expired"
    assert [r.text for r in results[:12]] == [f"answer {i}" for i in range(12)]
    assert all(isinstance(r, BatchRequestError) and r.code == "batch_expired" for r in results[12:])
    assert (batch.completed, batch.failed) == (12, 8)


def test_list_pages_with_has_more(emu, bclient):
    ids = [bclient.batches.submit(_requests(1)).batch_ids[0] for _ in range(3)]
    page = bclient.batches.list(limit=2)
    assert page.has_more
    assert [b.id for b in page.data] == ids[::-1][:2]
    assert [b.id for b in bclient.batches.iter_all(limit=2)] == ids[::-1]
    queries = [r.query for r in emu.requests if r.path == "/v1/batches" and r.method == "GET"]
    assert {"limit": "2", "after": ids[1]} in queries


def test_results_before_the_end_name_the_fix(emu, bclient, monkeypatch):
    monkeypatch.setattr(emu.config, "batch_stage_seconds", 1e9)
    job = bclient.batches.submit(_requests(1))
    with pytest.raises(ValueError, match=r"wait\(\) for the job"):
        bclient.batches.results(job)
    with pytest.raises(TimeoutError, match="save the job"):
        bclient.batches.wait(job, polling=BatchPolling(initial=0.01, maximum=0.01, timeout=0.05))
    bclient.batches.cancel_job(job)


def test_a_job_submitted_in_one_process_is_collected_in_another(emu, bclient, tmp_path):
    saved = tmp_path / "job.json"
    script = textwrap.dedent(
        f"""
        from kimi_core import ChatSettings, KimiClient, Message, build_chat_request
        client = KimiClient(api_key={emu.api_key!r}, base_url={emu.base_url!r})
        requests = [
            build_chat_request([Message.user(f"Say exactly: answer {{i}}")],
                               ChatSettings(thinking=False))
            for i in range(7)
        ]
        client.batches.submit(requests).save({str(saved)!r})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    job = BatchJob.load(saved)
    assert emu.api_key not in saved.read_text()
    bclient.batches.wait(job, polling=FAST)
    assert [r.text for r in bclient.batches.results(job)] == [f"answer {i}" for i in range(7)]


def test_saved_job_rejects_other_json():
    with pytest.raises(ValueError, match="not a saved Kimi batch job"):
        BatchJob.loads('{"custom_ids": []}')


async def test_async_run_matches_sync(emu, bclient):
    job, results = await bclient.abatches.run(_requests(4), polling=FAST)
    assert [r.text for r in results] == [f"answer {i}" for i in range(4)]
    progress = await bclient.abatches.status(job)
    assert progress.status == "completed"
    page = await bclient.abatches.list()
    assert page.data[0].id == job.batch_ids[0]


def test_cost_estimate_uses_the_batch_price(emu, bclient):
    _, [result] = bclient.batches.run(_requests(1), polling=FAST)
    assert isinstance(result, ChatResult)
    online = estimate_cost(result.usage, "kimi-k2.6")
    batched = estimate_cost(result.usage, "kimi-k2.6", batch=True)
    assert online
    assert batched == pytest.approx(online * BATCH_PRICE_FACTOR)
    assert estimate_cost(result.usage, "unknown-model") is None


def test_progress_bar_shows_the_job(emu, bclient, capsys):
    pytest.importorskip("tqdm")
    from kimi_core.batch_progress import progress_callback

    with progress_callback(True) as on_progress:
        bclient.batches.run(_requests(3), polling=FAST, on_progress=on_progress)
    shown = capsys.readouterr().err
    assert "Kimi batch" in shown
    assert "3/3" in shown
    assert "completed" in shown


def test_batch_inputs_keep_build_errors_at_their_positions():
    def build(text: str) -> ChatRequest:
        if text == "bad":
            raise TypeError("not a message")
        return build_chat_request([Message.user(text)], ChatSettings(model="kimi-k2.6"))

    kept = BatchInputs.build(["a", "bad", "c"], build, keep_errors=True)
    assert kept.positions == [0, 2]
    assert [type(o).__name__ for o in kept.merge(["A", "C"])] == ["str", "TypeError", "str"]
    assert kept.merge(["A", "C"])[::2] == ["A", "C"]
    with pytest.raises(TypeError, match="not a message"):
        raise_first_error(kept.merge(["A", "C"]), keep_errors=False)
    # Not kept: the build error names its position and keeps its type.
    with pytest.raises(TypeError, match="batch input 1: not a message"):
        BatchInputs.build(["a", "bad"], build, keep_errors=False)
