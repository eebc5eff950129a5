"""Moonshot AI's Kimi models as a LlamaIndex ``FunctionCallingLLM``."""

from llama_index.llms.kimi.base import Kimi
from llama_index.llms.kimi.dynamic_tools import system_tools_message
from llama_index.llms.kimi.tools import FormulaTool, KimiFormulaToolSpec

__all__ = ["FormulaTool", "Kimi", "KimiFormulaToolSpec", "system_tools_message"]
