"""Package surface: exports, LlamaIndex layout and class contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

import llama_index.llms.kimi as package
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.llms.kimi import Kimi

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "packages" / "llama-index-llms-kimi"


def test_all_is_pinned() -> None:
    assert package.__all__ == ["FormulaTool", "Kimi", "KimiFormulaToolSpec", "system_tools_message"]
    for name in package.__all__:
        assert getattr(package, name) is not None


def test_kimi_is_a_function_calling_llm() -> None:
    assert BaseLLM in Kimi.__mro__
    assert issubclass(Kimi, FunctionCallingLLM)
    assert Kimi.class_name() == "Kimi_LLM"


def test_namespace_layout_has_no_init_above_the_package() -> None:
    assert not (PACKAGE_ROOT / "llama_index" / "__init__.py").exists()
    assert not (PACKAGE_ROOT / "llama_index" / "llms" / "__init__.py").exists()
    assert (PACKAGE_ROOT / "llama_index" / "llms" / "kimi" / "__init__.py").exists()
    assert (PACKAGE_ROOT / "llama_index" / "llms" / "kimi" / "py.typed").exists()


def test_pyproject_declares_llamahub_metadata() -> None:
    meta = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "llama-index-llms-kimi"
    assert meta["tool"]["llamahub"]["import_path"] == "llama_index.llms.kimi"
    assert meta["tool"]["llamahub"]["class_authors"] == {"Kimi": "kimi-integrations"}
    deps = " ".join(meta["project"]["dependencies"])
    assert "llama-index-core" in deps
    assert "kimi-core" in deps
