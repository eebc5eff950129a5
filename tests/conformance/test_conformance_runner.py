"""The conformance runner's own data: exceptions name real runs and say why; a plain clone skips."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import verifier


def test_every_known_exception_names_a_run_and_a_reason() -> None:
    data = tomllib.loads(verifier.EXCEPTIONS.read_text(encoding="utf-8"))
    names = {run.name for run in verifier.RUNS}
    assert data["exception"]
    for entry in data["exception"]:
        assert set(entry["runs"]) <= names
        assert entry["tests"]
        assert all(pattern.startswith("tests/") for pattern in entry["tests"])
        assert len(entry["reason"].split()) >= 10


def test_a_plain_clone_skips_with_a_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIMI_VENDOR_VERIFIER", str(tmp_path / "absent"))
    assert verifier.find_verifier() is None
    assert verifier.main([]) == 0
    assert "vendor verifier is not next to this checkout" in capsys.readouterr().out
