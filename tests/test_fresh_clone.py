"""A fresh clone tests itself: the recordings are vendored with their licence, and CI proves it.

The proof itself is ``.ci/run``: it clones the checkout into an empty temporary folder and runs the
README's test command there. These tests pin that contract and catch a lookup outside the clone
before CI does.
"""

from __future__ import annotations

import re
from pathlib import Path

from moonshot_recordings import RECORDINGS, recording_files

ROOT = Path(__file__).resolve().parents[1]


def test_recordings_live_inside_the_repository() -> None:
    assert RECORDINGS.is_relative_to(ROOT / "tests")
    # INDEX.md's 50 files and the 11 alternate versions its commit table lists.
    assert len(recording_files()) == 61
    assert all(not name.endswith((".md", ".py")) for name in recording_files())


def test_apache_attribution_travels_with_the_files() -> None:
    license_text = (RECORDINGS / "LICENSE").read_text()
    assert "Apache License" in license_text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in license_text
    notice = (RECORDINGS / "NOTICE").read_text()
    assert "Copyright 2025 Vercel, Inc." in notice
    assert "vercel/ai" in (RECORDINGS / "INDEX.md").read_text()


def test_no_test_or_tool_looks_beside_the_checkout() -> None:
    # A path climbing above the root (a Path's parents beyond it) reads the folder around the
    # clone, which a fresh clone does not have; the team's shared tree is not in the repository.
    outside = re.compile(r"parents\[(\d+)\]")
    team_tree = "shared" + "/fixtures"
    sources = [
        ROOT / "noxfile.py",
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "examples").rglob("*.py"),
    ]
    offenders = []
    for path in sources:
        depth = len(path.relative_to(ROOT).parts) - 1  # parents[depth] is the root itself
        for match in outside.finditer(path.read_text()):
            if int(match.group(1)) > depth:
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        if team_tree in path.read_text():
            offenders.append(f"{path.relative_to(ROOT)}: {team_tree}")
    assert offenders == []


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme.split("exactly as CI does (`.ci/run`):", 1)[1]
    return after.split("```bash\n", 1)[1].split("\n```", 1)[0].strip()


def test_ci_runs_the_readme_command_in_a_fresh_clone() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == _readme_test_command()
    clone = lines.index('git clone --quiet "$PWD" "$tmp/kimi-integrations"')
    assert lines.index('cd "$tmp/kimi-integrations"') > clone
    assert lines.index('tmp="$(mktemp -d)"') < clone
