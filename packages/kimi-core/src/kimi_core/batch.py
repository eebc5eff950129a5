"""The Batch API: run many chat requests on Moonshot's side, at the batch price (60 %).

``client.batches.run(requests)`` uploads the requests as JSONL (split into several batches when
they exceed one file or mix models), waits with capped backoff and returns one
:class:`~kimi_core.response.ChatResult` or typed error per request, in input order. The explicit
``submit`` / ``status`` / ``wait`` / ``results`` / ``cancel_job`` steps work across processes
through the saved :class:`~kimi_core.batch_job.BatchJob`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kimi_core.batch_job import BatchJob, BatchPart, BatchProgress
from kimi_core.batch_lines import (
    BATCH_ENDPOINT,
    BatchObject,
    BatchRequestError,
    JsonlSplitter,
    batch_line,
    check_completion_window,
    check_metadata,
    parse_result_line,
    plan_files,
)
from kimi_core.errors import KimiError, MalformedResponseError
from kimi_core.files import MAX_FILE_BYTES
from kimi_core.request import ChatRequest
from kimi_core.response import ChatResult

if TYPE_CHECKING:
    from kimi_core.client import KimiClient

__all__ = [
    "AsyncBatches",
    "BatchPage",
    "BatchPolling",
    "BatchResult",
    "BatchResults",
    "Batches",
    "ProgressCallback",
]

logger = logging.getLogger("kimi_core")

BatchResult = ChatResult | KimiError
"""One request's outcome: its answer, or the typed error it ended with."""
BatchResults = list[BatchResult]
"""Outcomes in input order (an alias: ``list`` is also a method name of the services)."""
ProgressCallback = Callable[[BatchProgress], None]
"""Called with the job's progress after every poll."""

_MAX_RESULT_LINE_BYTES = 64 * 1024 * 1024
_MAX_RESULT_FILE_BYTES = 4 * 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BatchPolling:
    """How :meth:`Batches.wait` polls: capped exponential backoff and an optional deadline.

    Attributes:
        initial: Seconds before the second poll.
        factor: Growth of the interval after each poll.
        maximum: Cap on the interval.
        timeout: Give up (``TimeoutError``) after this many seconds; None waits as long as the
            batches' own completion window.
    """

    initial: float = 0.25
    factor: float = 1.5
    maximum: float = 120.0
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError(
                "BatchPolling needs initial > 0, maximum >= initial and factor >= 1; got "
                f"initial={self.initial}, maximum={self.maximum}, factor={self.factor}."
            )

    def delays(self) -> Iterator[float]:
        """The intervals between polls."""
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


@dataclass(frozen=True)
class BatchPage:
    """One page of ``GET /v1/batches``."""

    data: list[BatchObject]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        """The cursor for the next page (``after=``)."""
        return self.data[-1].id if self.data else None


def _page(data: Any) -> BatchPage:
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise MalformedResponseError("batch list has no data list", body=data)
    return BatchPage([BatchObject.from_wire(i) for i in items], bool(data.get("has_more")))


def _custom_ids(count: int, given: Sequence[str] | None) -> list[str]:
    if given is None:
        return [f"request-{i}" for i in range(count)]
    ids = list(given)
    if len(ids) != count:
        raise ValueError(f"got {len(ids)} custom_ids for {count} requests; give one per request.")
    if len(set(ids)) != len(ids):
        raise ValueError("custom_ids must be unique: results are matched to inputs by them.")
    return ids


def _lines(requests: Sequence[ChatRequest], ids: list[str]) -> list[bytes]:
    lines = []
    for position, (request, custom_id) in enumerate(zip(requests, ids, strict=True)):
        try:
            lines.append(batch_line(request, custom_id))
        except ValueError as exc:
            raise ValueError(f"request {position}: {exc}") from None
    return lines


def _create_body(file_id: str, window: str, metadata: Mapping[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "input_file_id": file_id,
        "endpoint": BATCH_ENDPOINT,
        "completion_window": check_completion_window(window),
    }
    metadata = check_metadata(metadata)
    if metadata:
        body["metadata"] = metadata
    return body


class _Collector:
    """Results of a finished job, filled from its result files, in input order."""

    def __init__(self, job: BatchJob) -> None:
        self.job = job
        self.where = {custom_id: i for i, custom_id in enumerate(job.custom_ids)}
        self.results: list[BatchResult | None] = [None] * len(job.custom_ids)

    def add(self, line: bytes, batch: BatchObject) -> None:
        custom_id, outcome = parse_result_line(line, batch.id)
        position = self.where.get(custom_id)
        if position is None:
            raise MalformedResponseError(
                f"batch {batch.id} returned custom_id {custom_id!r}, which the job never sent",
                retryable=False,
            )
        self.results[position] = outcome

    def finish(self, batches: Sequence[BatchObject]) -> BatchResults:
        for part, batch in zip(self.job.parts, batches, strict=True):
            for position in part.positions:
                if self.results[position] is None:
                    self.results[position] = _unanswered(batch, self.job.custom_ids[position])
        return [r for r in self.results if r is not None]


def _unanswered(batch: BatchObject, custom_id: str) -> BatchRequestError:
    if batch.status == "failed":
        reasons = "; ".join(str(e.get("message", e)) for e in batch.errors) or "no reason given"
        message, code = f"batch {batch.id} failed validation: {reasons}", "batch_failed"
    elif batch.status == "expired":
        message, code = f"batch {batch.id} expired before this request ran", "batch_expired"
    elif batch.status == "cancelled":
        message, code = f"batch {batch.id} was cancelled before this request ran", "batch_cancelled"
    else:
        message, code = f"batch {batch.id} ({batch.status}) has no result for it", "missing"
    return BatchRequestError.of(message, code=code, custom_id=custom_id, batch_id=batch.id)


def _check_done(job: BatchJob, batches: Sequence[BatchObject]) -> None:
    pending = [b.id for b in batches if not b.done]
    if pending:
        raise ValueError(
            f"batches {', '.join(pending)} of the job are not finished; wait() for the job (or "
            "cancel_job()) before collecting results."
        )


def _result_files(batch: BatchObject) -> list[str]:
    return [f for f in (batch.output_file_id, batch.error_file_id) if f]


class Batches:
    """Sync Batch API bound to a :class:`~kimi_core.client.KimiClient` (``client.batches``)."""

    def __init__(self, client: KimiClient) -> None:
        self._client = client

    # -- endpoints ----------------------------------------------------------------------------

    def create(
        self,
        input_file_id: str,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
    ) -> BatchObject:
        """``POST /v1/batches`` for an uploaded ``purpose=batch`` file.

        Raises:
            ValueError: A window outside 12h-7d or more than 16 metadata pairs (before sending).
        """
        body = _create_body(input_file_id, completion_window, metadata)
        return BatchObject.from_wire(self._client.request_json("POST", "/batches", body=body))

    def get(self, batch_id: str) -> BatchObject:
        """``GET /v1/batches/{id}``."""
        return BatchObject.from_wire(self._client.request_json("GET", f"/batches/{batch_id}"))

    def list(self, *, after: str | None = None, limit: int = 20) -> BatchPage:
        """``GET /v1/batches``: one page, newest first."""
        query = f"?limit={int(limit)}" + (f"&after={after}" if after else "")
        return _page(self._client.request_json("GET", f"/batches{query}"))

    def iter_all(self, *, limit: int = 100) -> Iterator[BatchObject]:
        """Every batch of the account, following ``has_more``."""
        after = None
        while True:
            page = self.list(after=after, limit=limit)
            yield from page.data
            if not page.has_more or page.last_id is None:
                return
            after = page.last_id

    def cancel(self, batch_id: str) -> BatchObject:
        """``POST /v1/batches/{id}/cancel``."""
        return BatchObject.from_wire(
            self._client.request_json("POST", f"/batches/{batch_id}/cancel")
        )

    # -- jobs ---------------------------------------------------------------------------------

    def submit(
        self,
        requests: Sequence[ChatRequest],
        *,
        custom_ids: Sequence[str] | None = None,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> BatchJob:
        """Upload the requests and create their batches.

        Every limit is checked before anything is uploaded. Requests are grouped into one file
        per model and split at ``max_file_bytes``; each file becomes one batch.

        Args:
            requests: Non-stream chat requests (``build_chat_request``), e.g. from an adapter.
            custom_ids: One unique id per request (default ``request-<position>``).
            completion_window: ``"12h"`` to ``"7d"``.
            metadata: Up to 16 string pairs, set on every batch.
            max_file_bytes: Split files at this size (the API's limit is 100 MB).

        Returns:
            The job handle (save it to collect the results from another process).

        Raises:
            ValueError: A request or option the Batch API cannot take.
            KimiError: Upload or creation failed (batches created so far are cancelled).
        """
        check_completion_window(completion_window)
        metadata = check_metadata(metadata)
        ids = _custom_ids(len(requests), custom_ids)
        for request in requests:
            if request.remote_media:
                self._client._prepare_media(request)
        lines = _lines(requests, ids)
        models = [str(r.body["model"]) for r in requests]
        plans = plan_files(models, lines, max_file_bytes=max_file_bytes)
        parts: list[BatchPart] = []
        try:
            for number, plan in enumerate(plans):
                uploaded = self._client.files.upload(
                    plan.content,
                    purpose="batch",
                    filename=f"kimi-batch-{number}.jsonl",
                    mime_type="application/jsonl",
                )
                body = _create_body(uploaded.id, completion_window, metadata)
                created = BatchObject.from_wire(
                    self._client.request_json("POST", "/batches", body=body)
                )
                parts.append(BatchPart(created.id, uploaded.id, plan.model, plan.positions))
        except BaseException:
            for part in parts:
                with contextlib.suppress(KimiError):
                    self.cancel(part.batch_id)
            raise
        return BatchJob(ids, parts, completion_window, metadata)

    def status(self, job: BatchJob) -> BatchProgress:
        """The job's progress now."""
        return BatchProgress.of(job, [self.get(batch_id) for batch_id in job.batch_ids])

    def wait(
        self,
        job: BatchJob,
        *,
        on_progress: ProgressCallback | None = None,
        polling: BatchPolling | None = None,
    ) -> BatchProgress:
        """Poll until every batch of the job is final.

        Raises:
            TimeoutError: ``polling.timeout`` passed first (the job keeps running).
        """
        polling = polling or BatchPolling()
        started = time.monotonic()
        for delay in polling.delays():
            progress = self.status(job)
            if on_progress is not None:
                on_progress(progress)
            if progress.done:
                return progress
            _check_deadline(polling, started, delay, job)
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - delays() never ends

    def results(self, job: BatchJob) -> BatchResults:
        """Download and parse the result files of a finished job, in input order.

        Raises:
            ValueError: A batch of the job is not finished yet.
        """
        batches = [self.get(batch_id) for batch_id in job.batch_ids]
        _check_done(job, batches)
        collector = _Collector(job)
        for batch in batches:
            for file_id in _result_files(batch):
                for line in self._download_lines(file_id):
                    collector.add(line, batch)
        return collector.finish(batches)

    def cancel_job(self, job: BatchJob) -> BatchProgress:
        """Ask every unfinished batch of the job to stop (answers so far stay collectable)."""
        batches = []
        for batch_id in job.batch_ids:
            batch = self.get(batch_id)
            batches.append(batch if batch.done else self.cancel(batch_id))
        return BatchProgress.of(job, batches)

    def run(
        self,
        requests: Sequence[ChatRequest],
        *,
        on_progress: ProgressCallback | None = None,
        polling: BatchPolling | None = None,
        **submit_options: Any,
    ) -> tuple[BatchJob, BatchResults]:
        """:meth:`submit`, :meth:`wait` and :meth:`results` in one call."""
        job = self.submit(requests, **submit_options)
        self.wait(job, on_progress=on_progress, polling=polling)
        return job, self.results(job)

    def _download_lines(self, file_id: str) -> Iterator[bytes]:
        response = self._client.request("GET", f"/files/{file_id}/content", stream=True)
        splitter = JsonlSplitter(_MAX_RESULT_LINE_BYTES)
        received = 0
        try:
            for chunk in response.iter_bytes():
                received += len(chunk)
                _check_size(received, file_id)
                yield from splitter.feed(chunk)
            yield from splitter.close()
        finally:
            response.close()


class AsyncBatches:
    """Async :class:`Batches` (``client.abatches``)."""

    def __init__(self, client: KimiClient) -> None:
        self._client = client

    async def create(
        self,
        input_file_id: str,
        *,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
    ) -> BatchObject:
        """Async :meth:`Batches.create`."""
        body = _create_body(input_file_id, completion_window, metadata)
        data = await self._client.arequest_json("POST", "/batches", body=body)
        return BatchObject.from_wire(data)

    async def get(self, batch_id: str) -> BatchObject:
        """Async :meth:`Batches.get`."""
        return BatchObject.from_wire(
            await self._client.arequest_json("GET", f"/batches/{batch_id}")
        )

    async def list(self, *, after: str | None = None, limit: int = 20) -> BatchPage:
        """Async :meth:`Batches.list`."""
        query = f"?limit={int(limit)}" + (f"&after={after}" if after else "")
        return _page(await self._client.arequest_json("GET", f"/batches{query}"))

    async def iter_all(self, *, limit: int = 100) -> AsyncIterator[BatchObject]:
        """Async :meth:`Batches.iter_all`."""
        after = None
        while True:
            page = await self.list(after=after, limit=limit)
            for batch in page.data:
                yield batch
            if not page.has_more or page.last_id is None:
                return
            after = page.last_id

    async def cancel(self, batch_id: str) -> BatchObject:
        """Async :meth:`Batches.cancel`."""
        return BatchObject.from_wire(
            await self._client.arequest_json("POST", f"/batches/{batch_id}/cancel")
        )

    async def submit(
        self,
        requests: Sequence[ChatRequest],
        *,
        custom_ids: Sequence[str] | None = None,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> BatchJob:
        """Async :meth:`Batches.submit`."""
        check_completion_window(completion_window)
        metadata = check_metadata(metadata)
        ids = _custom_ids(len(requests), custom_ids)
        for request in requests:
            if request.remote_media:
                await self._client._aprepare_media(request)
        lines = _lines(requests, ids)
        models = [str(r.body["model"]) for r in requests]
        plans = plan_files(models, lines, max_file_bytes=max_file_bytes)
        parts: list[BatchPart] = []
        try:
            for number, plan in enumerate(plans):
                uploaded = await self._client.afiles.upload(
                    plan.content,
                    purpose="batch",
                    filename=f"kimi-batch-{number}.jsonl",
                    mime_type="application/jsonl",
                )
                body = _create_body(uploaded.id, completion_window, metadata)
                created = BatchObject.from_wire(
                    await self._client.arequest_json("POST", "/batches", body=body)
                )
                parts.append(BatchPart(created.id, uploaded.id, plan.model, plan.positions))
        except BaseException:
            for part in parts:
                with contextlib.suppress(KimiError):
                    await self.cancel(part.batch_id)
            raise
        return BatchJob(ids, parts, completion_window, metadata)

    async def status(self, job: BatchJob) -> BatchProgress:
        """Async :meth:`Batches.status`."""
        return BatchProgress.of(job, [await self.get(batch_id) for batch_id in job.batch_ids])

    async def wait(
        self,
        job: BatchJob,
        *,
        on_progress: ProgressCallback | None = None,
        polling: BatchPolling | None = None,
    ) -> BatchProgress:
        """Async :meth:`Batches.wait`."""
        polling = polling or BatchPolling()
        started = time.monotonic()
        for delay in polling.delays():
            progress = await self.status(job)
            if on_progress is not None:
                on_progress(progress)
            if progress.done:
                return progress
            _check_deadline(polling, started, delay, job)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - delays() never ends

    async def results(self, job: BatchJob) -> BatchResults:
        """Async :meth:`Batches.results`."""
        batches = [await self.get(batch_id) for batch_id in job.batch_ids]
        _check_done(job, batches)
        collector = _Collector(job)
        for batch in batches:
            for file_id in _result_files(batch):
                async for line in self._download_lines(file_id):
                    collector.add(line, batch)
        return collector.finish(batches)

    async def cancel_job(self, job: BatchJob) -> BatchProgress:
        """Async :meth:`Batches.cancel_job`."""
        batches = []
        for batch_id in job.batch_ids:
            batch = await self.get(batch_id)
            batches.append(batch if batch.done else await self.cancel(batch_id))
        return BatchProgress.of(job, batches)

    async def run(
        self,
        requests: Sequence[ChatRequest],
        *,
        on_progress: ProgressCallback | None = None,
        polling: BatchPolling | None = None,
        **submit_options: Any,
    ) -> tuple[BatchJob, BatchResults]:
        """Async :meth:`Batches.run`."""
        job = await self.submit(requests, **submit_options)
        await self.wait(job, on_progress=on_progress, polling=polling)
        return job, await self.results(job)

    async def _download_lines(self, file_id: str) -> AsyncIterator[bytes]:
        response = await self._client.arequest("GET", f"/files/{file_id}/content", stream=True)
        splitter = JsonlSplitter(_MAX_RESULT_LINE_BYTES)
        received = 0
        try:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                _check_size(received, file_id)
                for line in splitter.feed(chunk):
                    yield line
            for line in splitter.close():
                yield line
        finally:
            await response.aclose()


def _check_deadline(polling: BatchPolling, started: float, delay: float, job: BatchJob) -> None:
    if polling.timeout is not None and time.monotonic() - started + delay > polling.timeout:
        raise TimeoutError(
            f"batch job {', '.join(job.batch_ids)} not finished after {polling.timeout:g}s; it "
            "keeps running: save the job (BatchJob.save) and collect it later."
        )


def _check_size(received: int, file_id: str) -> None:
    if received > _MAX_RESULT_FILE_BYTES:
        raise MalformedResponseError(
            f"result file {file_id} exceeds {_MAX_RESULT_FILE_BYTES} bytes; stopped reading",
            retryable=False,
        )
