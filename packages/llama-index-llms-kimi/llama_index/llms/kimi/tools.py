"""Moonshot's official tools (Formulas) as LlamaIndex function tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimi_core import FormulaResult, KimiClient
from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
from llama_index.core.tools.tool_spec.base import BaseToolSpec

if TYPE_CHECKING:
    from kimi_core import FormulaToolset
    from kimi_core import FunctionTool as KimiFunctionTool
    from llama_index.llms.kimi.base import Kimi

__all__ = ["FormulaTool", "KimiFormulaToolSpec"]


@dataclass
class _FormulaToolMetadata(ToolMetadata):
    """Tool metadata whose parameters are the formula's own JSON Schema, kept verbatim."""

    parameters: dict[str, Any] = field(default_factory=dict)

    def get_parameters_dict(self) -> dict[str, Any]:
        return dict(self.parameters)

    @property
    def fn_schema_str(self) -> str:
        return json.dumps(self.parameters, ensure_ascii=False)


class FormulaTool(FunctionTool):
    """One function of a Moonshot formula, executed as a fiber (``POST /v1/formulas/{uri}/fibers``).

    The arguments the agent parsed are sent back as JSON text; the fiber's ``output`` (or its
    ``encrypted_output``, verbatim) becomes the tool output, and a failed fiber an error output.
    """

    def __init__(self, client: KimiClient, uri: str, spec: KimiFunctionTool) -> None:
        self._client = client
        self._uri = uri
        metadata = _FormulaToolMetadata(
            name=spec.name,
            description=spec.description or f"{spec.name} (Moonshot formula {uri})",
            fn_schema=None,
            parameters=dict(spec.parameters or {"type": "object", "properties": {}}),
        )
        super().__init__(fn=self._run, async_fn=self._arun, metadata=metadata)

    @property
    def uri(self) -> str:
        """The formula URI, e.g. ``moonshot/web-search:latest``."""
        return self._uri

    def _run(self, **kwargs: Any) -> FormulaResult:
        return self._client.formulas.call(self._uri, self.metadata.get_name(), _json(kwargs))

    async def _arun(self, **kwargs: Any) -> FormulaResult:
        return await self._client.aformulas.call(self._uri, self.metadata.get_name(), _json(kwargs))

    def _output(self, result: FormulaResult, kwargs: dict[str, Any]) -> ToolOutput:
        return ToolOutput(
            tool_name=self.metadata.get_name(),
            content=result.content,
            raw_input={"args": (), "kwargs": kwargs},
            raw_output=result,
            is_error=result.is_error,
        )

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Run the fiber and return its output."""
        return self._output(self._run(**kwargs), kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Async :meth:`call`."""
        return self._output(await self._arun(**kwargs), kwargs)


def _json(kwargs: dict[str, Any]) -> str:
    return json.dumps(kwargs, ensure_ascii=False)


class KimiFormulaToolSpec(BaseToolSpec):
    """Moonshot's official tools (``moonshot/web-search:latest``, ``moonshot/date:latest``, ...).

    Examples:
        ```python
        from llama_index.core.agent.workflow import FunctionAgent
        from llama_index.llms.kimi import Kimi, KimiFormulaToolSpec

        llm = Kimi()
        tools = KimiFormulaToolSpec(["moonshot/date:latest"], llm=llm).to_tool_list()
        agent = FunctionAgent(tools=tools, llm=llm)
        ```

    Args:
        formulas: Formula URIs; their function names must be unique across them.
        llm: Use this ``Kimi``'s client (key, base URL, retries); otherwise ``client``.
        client: A kimi-core client; default one built from the environment.
    """

    spec_functions: list[Any] = []

    def __init__(
        self,
        formulas: Sequence[str],
        *,
        llm: Kimi | None = None,
        client: KimiClient | None = None,
    ) -> None:
        if isinstance(formulas, str):
            raise TypeError("formulas must be a list of URIs, e.g. ['moonshot/date:latest'].")
        self.formulas = list(formulas)
        self.client = client or (llm.client if llm is not None else KimiClient())

    def _tools(self, toolset: FormulaToolset) -> list[FunctionTool]:
        return [FormulaTool(self.client, toolset.uris[t.name], t) for t in toolset.tools]

    def to_tool_list(  # type: ignore[override]
        self, spec_functions: Sequence[str] | None = None, **kwargs: Any
    ) -> list[FunctionTool]:
        """Fetch the formulas' tool schemas (``GET /v1/formulas/{uri}/tools``) as tools.

        Args:
            spec_functions: Keep only these function names (default: all).
            **kwargs: Accepted for ``BaseToolSpec`` compatibility; unused.
        """
        return _select(self._tools(self.client.formulas.load(self.formulas)), spec_functions)

    async def to_tool_list_async(  # type: ignore[override]
        self, spec_functions: Sequence[str] | None = None, **kwargs: Any
    ) -> list[FunctionTool]:
        """Async :meth:`to_tool_list`."""
        toolset = await self.client.aformulas.load(self.formulas)
        return _select(self._tools(toolset), spec_functions)


def _select(tools: list[FunctionTool], names: Sequence[str] | None) -> list[FunctionTool]:
    if names is None:
        return tools
    known = {tool.metadata.get_name() for tool in tools}
    missing = [name for name in names if name not in known]
    if missing:
        raise ValueError(
            f"no formula provides {', '.join(missing)}; available: {', '.join(sorted(known))}."
        )
    return [tool for tool in tools if tool.metadata.get_name() in names]
