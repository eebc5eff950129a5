"""Structured output by function calling: a missing tool call is a clear error, never ``None``.

With thinking on, kimi-k2.6 cannot be forced to call a tool (kimi-core sends ``tool_choice``
``"auto"``), so the model may answer in prose. The error names that cause and the fix.
Streaming is done here rather than by LlamaIndex's ``FunctionCallingProgram.stream_call``, which
reads tool calls from ``additional_kwargs`` only (``Kimi`` returns ``ToolCallBlock``s, as current
LlamaIndex LLMs do) and so yields empty objects for every answer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

from llama_index.core.program.function_program import get_function_tool
from llama_index.core.program.utils import create_flexible_model
from pydantic import ValidationError

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import ChatResponse
    from llama_index.core.llms.function_calling import FunctionCallingLLM
    from llama_index.core.llms.llm import ToolSelection
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.types import Model

__all__ = [
    "NO_TOOL_CALL",
    "astream_function_object",
    "no_tool_call_error",
    "stream_function_object",
]

NO_TOOL_CALL = "Expected at least one tool call, but the model made none."


def no_tool_call_error(response: ChatResponse | None) -> ValueError:
    """The error for an answer without the expected tool call, with its cause and fix.

    Args:
        response: The answer (its ``adjustments`` tell whether the forced choice was dropped).

    Returns:
        A ``ValueError`` (LlamaIndex's error for a missing structured-output tool call).
    """
    adjustments = response.additional_kwargs.get("adjustments") or () if response else ()
    downgrade = [note for note in adjustments if "tool_choice" in note]
    cause = f" It could not be forced to: {downgrade[0]}" if downgrade else ""
    return ValueError(
        f"{NO_TOOL_CALL}{cause} For structured output, keep the default pydantic_program_mode "
        "(Kimi then sends response_format json_schema, which constrains the answer itself), or "
        "set thinking=False so the tool call can be forced."
    )


def _partial(flexible: type[Any], calls: list[ToolSelection]) -> Any | None:
    try:
        return flexible.model_validate(calls[0].tool_kwargs)
    except ValidationError:
        return None


def stream_function_object(
    llm: FunctionCallingLLM,
    output_cls: type[Model],
    prompt: PromptTemplate,
    llm_kwargs: dict[str, Any] | None,
    prompt_args: dict[str, Any],
) -> Generator[Any, None, None]:
    """Stream ``output_cls`` through a forced tool call: partial objects, then the whole one.

    Raises:
        ValueError: The model answered without calling the tool (:func:`no_tool_call_error`).
        pydantic.ValidationError: The finished call's arguments do not fit ``output_cls``.
    """
    tool = get_function_tool(output_cls)
    messages = llm._extend_messages(prompt.format_messages(**prompt_args))
    flexible = create_flexible_model(output_cls)
    last: ChatResponse | None = None
    for last in llm.stream_chat_with_tools(
        [tool], chat_history=messages, tool_required=True, **(llm_kwargs or {})
    ):
        calls = llm.get_tool_calls_from_response(last, error_on_no_tool_call=False)
        if calls and (partial := _partial(flexible, calls)) is not None:
            yield partial
    yield _final(llm, output_cls, last)


async def astream_function_object(
    llm: FunctionCallingLLM,
    output_cls: type[Model],
    prompt: PromptTemplate,
    llm_kwargs: dict[str, Any] | None,
    prompt_args: dict[str, Any],
) -> AsyncGenerator[Any, None]:
    """Async :func:`stream_function_object`."""
    tool = get_function_tool(output_cls)
    messages = llm._extend_messages(prompt.format_messages(**prompt_args))
    flexible = create_flexible_model(output_cls)
    last: ChatResponse | None = None
    responses = await llm.astream_chat_with_tools(
        [tool], chat_history=messages, tool_required=True, **(llm_kwargs or {})
    )
    async for last in responses:
        calls = llm.get_tool_calls_from_response(last, error_on_no_tool_call=False)
        if calls and (partial := _partial(flexible, calls)) is not None:
            yield partial
    yield _final(llm, output_cls, last)


def _final(llm: FunctionCallingLLM, output_cls: type[Model], last: ChatResponse | None) -> Model:
    calls = llm.get_tool_calls_from_response(last, error_on_no_tool_call=False) if last else []
    if not calls:
        raise no_tool_call_error(last)
    return output_cls.model_validate(calls[0].tool_kwargs)
