"""`ChatKimi` through Kimi's Batch API: `batch(..., use_batch_api=True)` and the job API.

The requests are built exactly as `invoke` builds them (tools, `response_format`, reasoning round
trips), run on Moonshot's side at the batch price, and come back as the `AIMessage`s `invoke`
would return, in input order, each with `response_metadata["batch_id"]` and an estimated cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from langchain_core.callbacks import AsyncCallbackManager, CallbackManager
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables.config import RunnableConfig, get_config_list

from langchain_kimi._convert import from_kimi_result
from langchain_kimi._errors import mapped_errors, to_langchain_error

if TYPE_CHECKING:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        CallbackManagerForLLMRun,
    )
    from langchain_core.language_models import LanguageModelInput

    from langchain_kimi.chat_models import ChatKimi

__all__ = ["BATCH_ARGS", "BatchAPIMixin"]

BATCH_ARGS = ("use_batch_api", "completion_window", "batch_metadata", "progress", "polling")
"""Keyword arguments of `batch`/`abatch` that configure the Batch API, never the request body."""

_Outcome = AIMessage | Exception


@dataclass
class _Options:
    use: bool | None = None
    completion_window: str = "24h"
    metadata: dict[str, str] | None = None
    progress: ProgressOption = None
    polling: BatchPolling | None = None


def _options(kwargs: dict[str, Any]) -> _Options:
    """Take the Batch API arguments out of `kwargs`."""
    return _Options(
        use=kwargs.pop("use_batch_api", None),
        completion_window=kwargs.pop("completion_window", None) or "24h",
        metadata=kwargs.pop("batch_metadata", None),
        progress=kwargs.pop("progress", None),
        polling=kwargs.pop("polling", None),
    )


def _build(
    model: ChatKimi, inputs: Sequence[LanguageModelInput], kwargs: dict[str, Any], keep: bool
) -> BatchInputs:
    stop = kwargs.get("stop")
    return BatchInputs.build(
        inputs,
        lambda item: model._request(
            model._convert_input(item).to_messages(), stop, kwargs, stream=False
        ),
        keep_errors=keep,
    )


def _tool_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`tools` / `tool_choice` in the forms `bind_tools` takes, as `bind_tools` would bind them."""
    if "tools" not in kwargs and "tool_choice" not in kwargs:
        return kwargs
    from langchain_kimi._tool_format import tool_to_wire
    from langchain_kimi.chat_models import _tool_choice

    out = dict(kwargs)
    if out.get("tools") is not None:
        out["tools"] = [tool_to_wire(tool, None) for tool in out["tools"]]
    if out.get("tool_choice") is not None:
        out["tool_choice"] = _tool_choice(out["tool_choice"])
    return out


def _message(
    model: ChatKimi, outcome: KimiResult | KimiError, request: ChatRequest | None, batch_id: str
) -> _Outcome:
    if isinstance(outcome, KimiError):
        return to_langchain_error(outcome)
    message = from_kimi_result(outcome, adjustments=request.adjustments if request else ())
    message.response_metadata["batch_id"] = batch_id
    cost = estimate_cost(outcome.usage, outcome.model, batch=True)
    if cost is not None:
        message.response_metadata["estimated_cost_usd"] = cost
    return message


def _messages(
    model: ChatKimi,
    job: BatchJob,
    results: Sequence[KimiResult | KimiError],
    requests: Sequence[ChatRequest | None],
) -> list[_Outcome]:
    batch_of = {p: part.batch_id for part in job.parts for p in part.positions}
    return [_message(model, outcome, requests[i], batch_of[i]) for i, outcome in enumerate(results)]


def _trace_start(
    model: ChatKimi, inputs: Sequence[LanguageModelInput], configs: list[RunnableConfig]
) -> list[CallbackManagerForLLMRun]:
    managers = []
    for item, config in zip(inputs, configs, strict=True):
        callbacks = CallbackManager.configure(
            config.get("callbacks"),
            model.callbacks,
            model.verbose,
            config.get("tags"),
            model.tags,
            config.get("metadata"),
            model.metadata,
        )
        (manager,) = callbacks.on_chat_model_start(
            model._serialized,
            [model._convert_input(item).to_messages()],
            invocation_params={**model._get_invocation_params(), "use_batch_api": True},
            name=config.get("run_name"),
            run_id=config.pop("run_id", None),
            batch_size=len(inputs),
        )
        managers.append(manager)
    return managers


async def _atrace_start(
    model: ChatKimi, inputs: Sequence[LanguageModelInput], configs: list[RunnableConfig]
) -> list[AsyncCallbackManagerForLLMRun]:
    managers = []
    for item, config in zip(inputs, configs, strict=True):
        callbacks = AsyncCallbackManager.configure(
            config.get("callbacks"),
            model.callbacks,
            model.verbose,
            config.get("tags"),
            model.tags,
            config.get("metadata"),
            model.metadata,
        )
        (manager,) = await callbacks.on_chat_model_start(
            model._serialized,
            [model._convert_input(item).to_messages()],
            invocation_params={**model._get_invocation_params(), "use_batch_api": True},
            name=config.get("run_name"),
            run_id=config.pop("run_id", None),
            batch_size=len(inputs),
        )
        managers.append(manager)
    return managers


def _end(outcome: _Outcome) -> LLMResult | BaseException:
    if isinstance(outcome, Exception):
        return outcome
    return LLMResult(generations=[[ChatGeneration(message=outcome)]])


def _trace_end(managers: Sequence[CallbackManagerForLLMRun], outcomes: Sequence[_Outcome]) -> None:
    for manager, outcome in zip(managers, outcomes, strict=True):
        ended = _end(outcome)
        if isinstance(ended, BaseException):
            manager.on_llm_error(ended)
        else:
            manager.on_llm_end(ended)


async def _atrace_end(
    managers: Sequence[AsyncCallbackManagerForLLMRun], outcomes: Sequence[_Outcome]
) -> None:
    for manager, outcome in zip(managers, outcomes, strict=True):
        ended = _end(outcome)
        if isinstance(ended, BaseException):
            await manager.on_llm_error(ended)
        else:
            await manager.on_llm_end(ended)


def _chat(mixin: object) -> ChatKimi:
    # The mixin is only ever a base of ChatKimi; mypy cannot express that through a self type.
    return cast("ChatKimi", mixin)


class BatchAPIMixin:
    """`batch`/`abatch` through the Batch API on request, plus the explicit job API."""

    def batch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """Answer many inputs: online with client-side concurrency, or through the Batch API.

        With `use_batch_api=True` (or `ChatKimi(use_batch_api=True)`) the inputs run as one Batch
        API job at 60 % of the price, and this call blocks until it ends (hours, up to the
        completion window). Results are the `AIMessage`s `invoke` returns, in input order, with
        `response_metadata["batch_id"]` and `["estimated_cost_usd"]`.

        Args:
            inputs: What `invoke` takes, one per request.
            config: One config, or one per input (callbacks and tags trace each input).
            return_exceptions: Put a failed input's exception at its position instead of raising.
            **kwargs: Call options, as for `invoke` (`tools`, `response_format`, `stop`, ...),
                and for the Batch API: `use_batch_api`, `completion_window` (`"12h"` to `"7d"`,
                default `"24h"`), `batch_metadata` (up to 16 str pairs), `progress` (`True` for a
                progress bar, or a callable receiving `kimi_core.BatchProgress`) and `polling`
                (`kimi_core.BatchPolling`).

        Returns:
            One `AIMessage` (or exception) per input.
        """
        model = _chat(self)
        options = _options(kwargs)
        use = model.use_batch_api if options.use is None else options.use
        if not use or not inputs:
            return BaseChatModel.batch(
                model, inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        configs = get_config_list(config, len(inputs))
        built = _build(model, inputs, kwargs, return_exceptions)
        managers = _trace_start(model, inputs, configs)
        try:
            done: list[_Outcome] = []
            if built.requests:
                with mapped_errors(), progress_callback(options.progress) as on_progress:
                    job, results = model._client_for(kwargs).batches.run(
                        built.requests,
                        on_progress=on_progress,
                        polling=options.polling,
                        completion_window=options.completion_window,
                        metadata=options.metadata,
                    )
                done = _messages(model, job, results, built.requests)
            outcomes = built.merge(done)
        except BaseException as exc:
            for manager in managers:
                manager.on_llm_error(exc)
            raise
        _trace_end(managers, outcomes)
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    async def abatch(
        self,
        inputs: list[LanguageModelInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """Async `batch`, with the same `use_batch_api` options."""
        model = _chat(self)
        options = _options(kwargs)
        use = model.use_batch_api if options.use is None else options.use
        if not use or not inputs:
            return await BaseChatModel.abatch(
                model, inputs, config, return_exceptions=return_exceptions, **kwargs
            )
        configs = get_config_list(config, len(inputs))
        built = _build(model, inputs, kwargs, return_exceptions)
        managers = await _atrace_start(model, inputs, configs)
        try:
            done: list[_Outcome] = []
            if built.requests:
                with mapped_errors(), progress_callback(options.progress) as on_progress:
                    job, results = await model._client_for(kwargs).abatches.run(
                        built.requests,
                        on_progress=on_progress,
                        polling=options.polling,
                        completion_window=options.completion_window,
                        metadata=options.metadata,
                    )
                done = _messages(model, job, results, built.requests)
            outcomes = built.merge(done)
        except BaseException as exc:
            for manager in managers:
                await manager.on_llm_error(exc)
            raise
        await _atrace_end(managers, outcomes)
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    # -- the explicit job API -----------------------------------------------------------------

    def submit_batch(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        completion_window: str = "24h",
        batch_metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> BatchJob:
        """Submit inputs as a Batch API job and return at once.

        Save the job (`job.save(path)`) to collect it later, from any process, with
        `batch_results`. Tools go in `kwargs` in any form `bind_tools` takes (`tools=[Weather]`,
        `tool_choice=...`), structured output as `response_format={...}`.

        Args:
            inputs: What `invoke` takes, one per request.
            completion_window: `"12h"` to `"7d"`.
            batch_metadata: Up to 16 string pairs stored on each batch.
            **kwargs: Call options, as for `invoke`.

        Returns:
            The job handle (no secrets in it).
        """
        model = _chat(self)
        built = _build(model, inputs, _tool_kwargs(kwargs), keep=False)
        with mapped_errors():
            return model._client_for(kwargs).batches.submit(
                built.requests, completion_window=completion_window, metadata=batch_metadata
            )

    async def asubmit_batch(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        completion_window: str = "24h",
        batch_metadata: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> BatchJob:
        """Async `submit_batch`."""
        model = _chat(self)
        built = _build(model, inputs, _tool_kwargs(kwargs), keep=False)
        with mapped_errors():
            return await model._client_for(kwargs).abatches.submit(
                built.requests, completion_window=completion_window, metadata=batch_metadata
            )

    def batch_status(self, job: BatchJob) -> BatchProgress:
        """Where the job stands (status and request counts over its batches)."""
        model = _chat(self)
        with mapped_errors():
            return model.client.batches.status(job)

    async def abatch_status(self, job: BatchJob) -> BatchProgress:
        """Async `batch_status`."""
        model = _chat(self)
        with mapped_errors():
            return await model.client.abatches.status(job)

    def batch_results(
        self,
        job: BatchJob,
        *,
        wait: bool = True,
        progress: ProgressOption = None,
        polling: BatchPolling | None = None,
        return_exceptions: bool = False,
    ) -> list[AIMessage]:
        """The job's `AIMessage`s in input order, waiting for it to end unless `wait=False`.

        Raises:
            ValueError: `wait=False` and the job has not ended.
        """
        model = _chat(self)
        batches = model.client.batches
        with mapped_errors(), progress_callback(progress) as on_progress:
            if wait:
                batches.wait(job, on_progress=on_progress, polling=polling)
            results = batches.results(job)
        outcomes = _messages(model, job, results, [None] * len(results))
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
    ) -> list[AIMessage]:
        """Async `batch_results`."""
        model = _chat(self)
        batches = model.client.abatches
        with mapped_errors(), progress_callback(progress) as on_progress:
            if wait:
                await batches.wait(job, on_progress=on_progress, polling=polling)
            results = await batches.results(job)
        outcomes = _messages(model, job, results, [None] * len(results))
        raise_first_error(outcomes, keep_errors=return_exceptions)
        return outcomes  # type: ignore[return-value]

    def cancel_batch(self, job: BatchJob) -> BatchProgress:
        """Stop the job's unfinished batches; answers so far stay collectable."""
        model = _chat(self)
        with mapped_errors():
            return model.client.batches.cancel_job(job)

    async def acancel_batch(self, job: BatchJob) -> BatchProgress:
        """Async `cancel_batch`."""
        model = _chat(self)
        with mapped_errors():
            return await model.client.abatches.cancel_job(job)
