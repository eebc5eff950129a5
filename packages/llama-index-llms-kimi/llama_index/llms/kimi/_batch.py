"""``Kimi`` through Kimi's Batch API: ``batch_chat`` / ``batch_complete`` and the job API.

Each conversation is built exactly as :meth:`Kimi.chat` builds it (tools, ``response_format``,
thinking, documents), runs on Moonshot's side at 60 % of the price, and comes back as the
``ChatResponse`` ``chat`` would return, in input order, with ``additional_kwargs["batch_id"]`` and
``["estimated_cost_usd"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from kimi_core import (
    BatchInputs,
    BatchJob,
    BatchPolling,
    BatchProgress,
    ChatRequest,
    KimiError,
    ProgressOption,
    estimate_cost,
    progress_callback,
    raise_first_error,
)
from kimi_core import ChatResult as KimiResult
from llama_index.core.base.llms.generic_utils import chat_response_to_completion_response
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse
from llama_index.core.tools import BaseTool
from llama_index.llms.kimi._convert import to_kimi_tools

if TYPE_CHECKING:
    from llama_index.llms.kimi.base import Kimi

__all__ = ["BatchMixin"]

ChatOutcome = ChatResponse | Exception
CompletionOutcome = CompletionResponse | Exception


def _llm(mixin: object) -> Kimi:
    # The mixin is only ever a base of Kimi; mypy cannot express that through a self type.
    return cast("Kimi", mixin)


def _tool_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """LlamaIndex tools (``BaseTool``) in ``tools`` become Kimi tools (as ``chat_with_tools``)."""
    tools = kwargs.get("tools")
    if not tools or not any(isinstance(tool, BaseTool) for tool in tools):
        return kwargs
    llama_tools = [tool for tool in tools if isinstance(tool, BaseTool)]
    others = [tool for tool in tools if not isinstance(tool, BaseTool)]
    return {**kwargs, "tools": [*others, *to_kimi_tools(llama_tools)]}


def _prompt_conversations(prompts: Sequence[str]) -> list[list[ChatMessage]]:
    return [[ChatMessage(role="user", content=prompt)] for prompt in prompts]


def _build(
    llm: Kimi, conversations: Sequence[Sequence[ChatMessage]], kwargs: dict[str, Any], keep: bool
) -> BatchInputs:
    return BatchInputs.build(
        conversations,
        lambda messages: llm._request(llm._documents(messages), stream=False, **kwargs),
        keep_errors=keep,
    )


def _responses(
    llm: Kimi,
    job: BatchJob,
    results: Sequence[KimiResult | KimiError],
    requests: Sequence[ChatRequest] | None = None,
) -> list[ChatOutcome]:
    batch_of = {p: part.batch_id for part in job.parts for p in part.positions}
    out: list[ChatOutcome] = []
    for position, outcome in enumerate(results):
        if isinstance(outcome, KimiError):
            out.append(outcome)
            continue
        response = llm._chat_response(outcome, requests[position] if requests else None)
        response.additional_kwargs["batch_id"] = batch_of[position]
        cost = estimate_cost(outcome.usage, outcome.model, batch=True)
        if cost is not None:
            response.additional_kwargs["estimated_cost_usd"] = cost
        out.append(response)
    return out


def _completions(outcomes: list[ChatOutcome]) -> list[CompletionOutcome]:
    return [
        o if isinstance(o, Exception) else chat_response_to_completion_response(o) for o in outcomes
    ]


class BatchMixin:
    """Batch API methods of :class:`~llama_index.llms.kimi.Kimi`."""

    def batch_chat(
        self,
        conversations: Sequence[Sequence[ChatMessage]],
        *,
        return_exceptions: bool = False,
        completion_window: str = "24h",
        batch_metadata: dict[str, str] | None = None,
        progress: ProgressOption = None,
        polling: BatchPolling | None = None,
        **kwargs: Any,
    ) -> list[ChatResponse]:
        """Answer many conversations through the Batch API and wait for the job to end.

        The job runs on Moonshot's side at 60 % of the price, outside the real-time rate limits;
        it may take up to the completion window.

        Args:
            conversations: One message list per request, as :meth:`chat` takes.
            return_exceptions: Put a failed request's exception at its position instead of
                raising the first one.
            completion_window: ``"12h"`` to ``"7d"``.
            batch_metadata: Up to 16 string pairs stored on each batch.
            progress: ``True`` for a progress bar, or a callable receiving
                ``kimi_core.BatchProgress`` after each poll.
            polling: Poll intervals and an optional deadline (``kimi_core.BatchPolling``).
            **kwargs: Per-call options, as :meth:`chat` takes (``response_format``, ``thinking``,
                ``tool_choice``, ...), applied to every conversation; ``tools`` may be LlamaIndex
                tools (``FunctionTool``, ...), as ``chat_with_tools`` takes them.

        Returns:
            One ``ChatResponse`` (or exception) per conversation, in order.
        """
        llm = _llm(self)
        built = _build(llm, conversations, _tool_kwargs(kwargs), return_exceptions)
        done: list[ChatOutcome] = []
        if built.requests:
            with progress_callback(progress) as on_progress:
                job, results = llm.client.batches.run(
                    built.requests,
                    on_progress=on_progress,
                    polling=polling,
                    completion_window=completion_window,
                    metadata=batch_metadata,
                )
            done = _responses(llm, job, results, built.requests)
        outcomes = built.merge(done)
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    async def abatch_chat(
        self,
        conversations: Sequence[Sequence[ChatMessage]],
        *,
        return_exceptions: bool = False,
        completion_window: str = "24h",
        batch_metadata: dict[str, str] | None = None,
        progress: ProgressOption = None,
        polling: BatchPolling | None = None,
        **kwargs: Any,
    ) -> list[ChatResponse]:
        """Async :meth:`batch_chat`."""
        llm = _llm(self)
        kwargs = _tool_kwargs(kwargs)
        built = BatchInputs(total=len(conversations))
        for position, messages in enumerate(conversations):
            try:
                documents = await llm._adocuments(messages)
                request = llm._request(documents, stream=False, **kwargs)
            except (ValueError, TypeError) as exc:
                built.refuse(position, exc, keep_errors=return_exceptions)
            else:
                built.add(position, request)
        done: list[ChatOutcome] = []
        if built.requests:
            with progress_callback(progress) as on_progress:
                job, results = await llm.client.abatches.run(
                    built.requests,
                    on_progress=on_progress,
                    polling=polling,
                    completion_window=completion_window,
                    metadata=batch_metadata,
                )
            done = _responses(llm, job, results, built.requests)
        outcomes = built.merge(done)
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    def batch_complete(self, prompts: Sequence[str], **kwargs: Any) -> list[CompletionResponse]:
        """:meth:`batch_chat` for prompts, each sent as one user message (as :meth:`complete`).

        Takes the same keyword arguments as :meth:`batch_chat`.
        """
        responses = self.batch_chat(_prompt_conversations(prompts), **kwargs)
        return _completions(responses)  # type: ignore[arg-type, return-value]

    async def abatch_complete(
        self, prompts: Sequence[str], **kwargs: Any
    ) -> list[CompletionResponse]:
        """Async :meth:`batch_complete`."""
        responses = await self.abatch_chat(_prompt_conversations(prompts), **kwargs)
        return _completions(responses)  # type: ignore[arg-type, return-value]

    # -- the explicit job API -----------------------------------------------------------------

    def submit_batch(
        self,
        conversations: Sequence[Sequence[ChatMessage]],
        *,
        completion_window: str = "24h",
        batch_metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> BatchJob:
        """Submit conversations as a Batch API job and return at once.

        Save the job (``job.save(path)``) and collect it later, from any process, with
        :meth:`batch_results`.
        """
        llm = _llm(self)
        built = _build(llm, conversations, _tool_kwargs(kwargs), keep=False)
        return llm.client.batches.submit(
            built.requests, completion_window=completion_window, metadata=batch_metadata
        )

    async def asubmit_batch(
        self,
        conversations: Sequence[Sequence[ChatMessage]],
        *,
        completion_window: str = "24h",
        batch_metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> BatchJob:
        """Async :meth:`submit_batch`."""
        llm = _llm(self)
        kwargs = _tool_kwargs(kwargs)
        requests = [
            llm._request(await llm._adocuments(messages), stream=False, **kwargs)
            for messages in conversations
        ]
        return await llm.client.abatches.submit(
            requests, completion_window=completion_window, metadata=batch_metadata
        )

    def batch_status(self, job: BatchJob) -> BatchProgress:
        """Where the job stands (status and request counts over its batches)."""
        return _llm(self).client.batches.status(job)

    async def abatch_status(self, job: BatchJob) -> BatchProgress:
        """Async :meth:`batch_status`."""
        return await _llm(self).client.abatches.status(job)

    def batch_results(
        self,
        job: BatchJob,
        *,
        wait: bool = True,
        progress: ProgressOption = None,
        polling: BatchPolling | None = None,
        return_exceptions: bool = False,
    ) -> list[ChatResponse]:
        """The job's ``ChatResponse`` list in input order, waiting for it unless ``wait=False``.

        Raises:
            ValueError: ``wait=False`` and the job has not ended.
        """
        llm = _llm(self)
        with progress_callback(progress) as on_progress:
            if wait:
                llm.client.batches.wait(job, on_progress=on_progress, polling=polling)
        outcomes = _responses(llm, job, llm.client.batches.results(job))
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    async def abatch_results(
        self,
        job: BatchJob,
        *,
        wait: bool = True,
        progress: ProgressOption = None,
        polling: BatchPolling | None = None,
        return_exceptions: bool = False,
    ) -> list[ChatResponse]:
        """Async :meth:`batch_results`."""
        llm = _llm(self)
        with progress_callback(progress) as on_progress:
            if wait:
                await llm.client.abatches.wait(job, on_progress=on_progress, polling=polling)
        outcomes = _responses(llm, job, await llm.client.abatches.results(job))
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    def cancel_batch(self, job: BatchJob) -> BatchProgress:
        """Stop the job's unfinished batches; answers so far stay collectable."""
        return _llm(self).client.batches.cancel_job(job)

    async def acancel_batch(self, job: BatchJob) -> BatchProgress:
        """Async :meth:`cancel_batch`."""
        return await _llm(self).client.abatches.cancel_job(job)
