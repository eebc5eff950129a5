"""Moonshot's official tools ("Formulas") as LangChain `BaseTool`s.

A formula such as `moonshot/fetch:latest` publishes function tools; calling one posts a fiber
to Moonshot, which runs it server-side. The tools work with any LangChain model or agent, not
only `ChatKimi`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kimi_core import DEFAULT_TIMEOUT, FormulaResult, KimiClient
from langchain_core.tools import BaseTool, BaseToolkit, ToolException
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from langchain_kimi._errors import mapped_errors

if TYPE_CHECKING:
    from langchain_kimi.chat_models import ChatKimi

__all__ = ["MoonshotFormulaTool", "MoonshotFormulaToolkit"]


class MoonshotFormulaTool(BaseTool):
    """One function of a Moonshot formula, executed through `POST /formulas/{uri}/fibers`.

    The tool returns the fiber's output (or its opaque encrypted output, verbatim, which the
    Kimi model can read). A failed fiber raises `ToolException`; with the default
    `handle_tool_error=True` the agent gets its text as an error tool result and can react.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    uri: str
    """The formula URI, e.g. `moonshot/fetch:latest`."""
    client: KimiClient = Field(exclude=True, repr=False)
    """The kimi-core client that sends the fibers."""
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = True
    """Report a failed fiber to the model as an error result instead of raising."""

    def _run(self, *args: Any, **kwargs: Any) -> str:
        # BaseTool passes the parsed arguments; the fiber wants the JSON text.
        kwargs.pop("run_manager", None)
        with mapped_errors():
            result = self.client.formulas.call(self.uri, self.name, _arguments(kwargs))
        return _content(result)

    async def _arun(self, *args: Any, **kwargs: Any) -> str:
        kwargs.pop("run_manager", None)
        with mapped_errors():
            result = await self.client.aformulas.call(self.uri, self.name, _arguments(kwargs))
        return _content(result)


def _content(result: FormulaResult) -> str:
    if result.is_error:
        raise ToolException(result.content)
    return result.content


def _arguments(kwargs: dict[str, Any]) -> str:
    return json.dumps(kwargs, ensure_ascii=False)


class MoonshotFormulaToolkit(BaseToolkit):
    """Load Moonshot formulas (official tools) as LangChain tools.

    Instantiate:
        ```python
        from langchain_kimi import MoonshotFormulaToolkit

        toolkit = MoonshotFormulaToolkit(
            formulas=["moonshot/fetch:latest", "moonshot/web-search:latest"]
        )
        tools = toolkit.get_tools()  # one BaseTool per formula function
        ```

    Use with an agent:
        ```python
        from langchain.agents import create_agent
        from langchain_kimi import ChatKimi

        agent = create_agent(ChatKimi(), tools=tools)
        ```

    The tool schemas are fetched from `GET /formulas/{uri}/tools` on the first `get_tools()`
    call; function names must be unique across the formulas (checked by kimi-core).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    formulas: list[str]
    """Formula URIs, e.g. `["moonshot/fetch:latest"]`."""
    api_key: SecretStr | None = None
    """API key; default `MOONSHOT_API_KEY`, then `KIMI_API_KEY`."""
    base_url: str | None = None
    """API base URL; default from `MOONSHOT_BASE_URL` / `KIMI_BASE_URL`."""
    region: str | None = None
    """`"cn"` for the mainland endpoint."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds per request."""
    max_retries: int = 2
    """Retries of retryable failures."""

    _tools: list[BaseTool] | None = PrivateAttr(default=None)

    @classmethod
    def from_chat_model(cls, model: ChatKimi, formulas: list[str]) -> MoonshotFormulaToolkit:
        """A toolkit that uses `model`'s key, endpoint, timeout and retries.

        Args:
            model: The `ChatKimi` whose connection settings to reuse.
            formulas: Formula URIs, e.g. `["moonshot/fetch:latest"]`.

        Returns:
            The toolkit (schemas are fetched on the first `get_tools()`).
        """
        return cls(
            formulas=formulas,
            api_key=model.api_key,
            base_url=model.base_url,
            region=model.region,
            timeout=model.timeout if model.timeout is not None else DEFAULT_TIMEOUT,
            max_retries=model.max_retries,
        )

    def _client(self) -> KimiClient:
        return KimiClient(
            self.api_key.get_secret_value() if self.api_key is not None else None,
            self.base_url,
            region=self.region,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    def get_tools(self) -> list[BaseTool]:
        """Fetch the formulas' tool schemas (once) and return them as `BaseTool`s.

        Returns:
            One `MoonshotFormulaTool` per function, in formula order.

        Raises:
            ValueError: A malformed URI or a function name provided by two formulas.
        """
        if self._tools is None:
            client = self._client()
            with mapped_errors():
                toolset = client.formulas.load(list(self.formulas))
            self._tools = [
                MoonshotFormulaTool(
                    name=tool.name,
                    description=tool.description or tool.name,
                    args_schema=tool.parameters or {"type": "object", "properties": {}},
                    uri=toolset.uris[tool.name],
                    client=client,
                )
                for tool in toolset.tools
            ]
        return list(self._tools)
