"""Official tools ("Formulas"): list a formula's tools and execute calls as fibers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimi_core.errors import MalformedResponseError
from kimi_core.messages import FunctionTool, Message, ToolCall

if TYPE_CHECKING:
    from kimi_core.client import KimiClient

__all__ = ["AsyncFormulas", "FormulaResult", "FormulaToolset", "Formulas"]


@dataclass(frozen=True, slots=True)
class FormulaResult:
    """The outcome of one fiber, mapped to a tool result.

    Attributes:
        content: What to send back as the tool message content: ``output``, the
            ``encrypted_output`` verbatim, or the error text.
        status: The fiber status (``succeeded`` or an error status).
        fiber_id: The fiber's id.
        encrypted: Whether ``content`` is an opaque encrypted output.
        is_error: Whether the call failed.
        raw: The fiber body.
    """

    content: str
    status: str
    fiber_id: str | None = None
    encrypted: bool = False
    is_error: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_fiber(cls, fiber: Any) -> FormulaResult:
        """Map a fiber body: ``output`` / ``encrypted_output`` / error status."""
        if not isinstance(fiber, dict):
            raise MalformedResponseError("fiber response is not an object", body=fiber)
        status = str(fiber.get("status") or "unknown")
        found = fiber.get("context")
        context: dict[str, Any] = found if isinstance(found, dict) else {}
        fiber_id = fiber.get("id")
        if status == "succeeded":
            if isinstance(context.get("output"), str):
                return cls(context["output"], status, fiber_id, raw=fiber)
            if isinstance(context.get("encrypted_output"), str):
                return cls(context["encrypted_output"], status, fiber_id, encrypted=True, raw=fiber)
        error = context.get("error") or fiber.get("error")
        if isinstance(error, dict):
            error = error.get("message") or str(error)
        text = f"Error: {error or f'the tool call ended with status {status!r}'}"
        return cls(text, status, fiber_id, is_error=True, raw=fiber)


def _tools_path(uri: str) -> str:
    if not uri or "/" not in uri:
        raise ValueError(f"a formula URI looks like 'moonshot/web-search:latest', got {uri!r}")
    return f"/formulas/{uri}/tools"


def _parse_tools(data: Any) -> list[FunctionTool]:
    items = data.get("tools") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise MalformedResponseError("formula tools response has no tools list", body=data)
    out = []
    for item in items:
        fn = item.get("function") if isinstance(item, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise MalformedResponseError("a formula tool has no function name", body=data)
        out.append(FunctionTool(fn["name"], fn.get("description"), fn.get("parameters")))
    return out


@dataclass
class FormulaToolset:
    """Tools of several formulas, with the name → URI map needed to execute calls.

    Attributes:
        tools: Function tools to pass to the model.
        uris: Function name → formula URI.
    """

    tools: list[FunctionTool]
    uris: dict[str, str]

    def handles(self, call: ToolCall) -> bool:
        """Whether this toolset executes the call."""
        return call.name in self.uris


def _toolset(pairs: list[tuple[str, list[FunctionTool]]]) -> FormulaToolset:
    uris: dict[str, str] = {}
    tools: list[FunctionTool] = []
    for uri, found in pairs:
        for tool in found:
            if tool.name in uris:
                raise ValueError(
                    f"function name {tool.name!r} is provided by both {uris[tool.name]} and {uri}; "
                    "names must be unique across a request."
                )
            uris[tool.name] = uri
            tools.append(tool)
    return FormulaToolset(tools, uris)


def _tool_message(call: ToolCall, result: FormulaResult) -> Message:
    return Message.tool(call.id, result.content, name=call.name)


class Formulas:
    """Sync Formula API bound to a :class:`KimiClient`."""

    def __init__(self, client: KimiClient) -> None:
        self._client = client

    def tools(self, uri: str) -> list[FunctionTool]:
        """``GET /v1/formulas/{uri}/tools``."""
        return _parse_tools(self._client.request_json("GET", _tools_path(uri)))

    def load(self, uris: list[str]) -> FormulaToolset:
        """Fetch the tools of several formulas into one toolset (names checked for uniqueness)."""
        return _toolset([(uri, self.tools(uri)) for uri in uris])

    def call(self, uri: str, name: str, arguments: str) -> FormulaResult:
        """``POST /v1/formulas/{uri}/fibers`` with the arguments exactly as the model wrote them."""
        _tools_path(uri)
        body = {"name": name, "arguments": arguments}
        return FormulaResult.from_fiber(
            self._client.request_json("POST", f"/formulas/{uri}/fibers", body=body)
        )

    def run(self, toolset: FormulaToolset, call: ToolCall) -> Message:
        """Execute a model's call through its formula and return the tool message to send back."""
        if not toolset.handles(call):
            raise ValueError(f"no formula provides the function {call.name!r}")
        return _tool_message(call, self.call(toolset.uris[call.name], call.name, call.arguments))


class AsyncFormulas:
    """Async Formula API bound to a :class:`KimiClient`."""

    def __init__(self, client: KimiClient) -> None:
        self._client = client

    async def tools(self, uri: str) -> list[FunctionTool]:
        """Async :meth:`Formulas.tools`."""
        return _parse_tools(await self._client.arequest_json("GET", _tools_path(uri)))

    async def load(self, uris: list[str]) -> FormulaToolset:
        """Async :meth:`Formulas.load`."""
        return _toolset([(uri, await self.tools(uri)) for uri in uris])

    async def call(self, uri: str, name: str, arguments: str) -> FormulaResult:
        """Async :meth:`Formulas.call`."""
        _tools_path(uri)
        body = {"name": name, "arguments": arguments}
        return FormulaResult.from_fiber(
            await self._client.arequest_json("POST", f"/formulas/{uri}/fibers", body=body)
        )

    async def run(self, toolset: FormulaToolset, call: ToolCall) -> Message:
        """Async :meth:`Formulas.run`."""
        if not toolset.handles(call):
            raise ValueError(f"no formula provides the function {call.name!r}")
        result = await self.call(toolset.uris[call.name], call.name, call.arguments)
        return _tool_message(call, result)
