"""The package's public surface and metadata."""

from __future__ import annotations

import tomllib
from pathlib import Path

import langchain_kimi
from langchain_kimi import ChatKimi

_PYPROJECT = Path(__file__).parents[2] / "packages" / "langchain-kimi" / "pyproject.toml"


def test_public_names() -> None:
    assert sorted(langchain_kimi.__all__) == [
        "ChatKimi",
        "MoonshotFormulaToolkit",
        "__version__",
        "system_tools_message",
    ]


def test_version_matches_pyproject() -> None:
    project = tomllib.loads(_PYPROJECT.read_text())["project"]
    assert langchain_kimi.__version__ == project["version"]


def test_version_is_recorded_in_metadata() -> None:
    model = ChatKimi(api_key="k")
    assert model.metadata is not None
    assert model.metadata["lc_versions"]["langchain-kimi"] == langchain_kimi.__version__


def test_no_langchain_openai_dependency() -> None:
    dependencies = tomllib.loads(_PYPROJECT.read_text())["project"]["dependencies"]
    assert not [d for d in dependencies if d.startswith("langchain-openai")]
