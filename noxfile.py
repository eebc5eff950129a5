"""Developer and CI sessions for the kimi-integrations monorepo.

Every package gets the same session names: ``tests-<package>`` installs only that
package (and its own ``test`` dependency group) into a fresh environment, so a
dependency it forgot to declare fails here even though the shared workspace hides it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

PYTHON = "3.11"


def _packages() -> dict[str, Path]:
    """Workspace members by distribution name, in a stable order."""
    found: dict[str, Path] = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        name = tomllib.loads(pyproject.read_text())["project"]["name"]
        found[name] = pyproject.parent
    return found


PACKAGES = _packages()


def _test_dir(package: str) -> Path:
    return ROOT / "tests" / package.replace("-", "_")


def _sync(session: nox.Session, *args: str) -> None:
    """Install the locked workspace into this session's own environment."""
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Every package's tests and the cross-package tests, offline, against the emulator."""
    _sync(session, "--all-packages", "--group", "test")
    session.run("pytest", *(session.posargs or ["tests"]))


for _name in PACKAGES:

    @nox.session(python=PYTHON, name=f"tests-{_name}")
    def _package_tests(session: nox.Session, package: str = _name) -> None:
        _sync(session, "--package", package, "--group", "test")
        session.run("pytest", str(_test_dir(package)), *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    _sync(session, "--all-packages", "--only-group", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package's source."""
    _sync(session, "--all-packages", "--group", "lint")
    session.run(
        "mypy", *(str(p / "src") if (p / "src").exists() else str(p) for p in PACKAGES.values())
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Issue 6 benchmarks against the emulator in its own process (``-- --quick`` to iterate)."""
    _sync(session, "--all-packages", "--group", "bench")
    session.run("python", "tests/bench/bench.py", *session.posargs)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """Issue 7 soak: 2,000 mixed calls under ~20% injected faults, figures printed."""
    _sync(session, "--all-packages", "--group", "test")
    session.run("python", "tests/soak/soak_harness.py", *session.posargs)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """Moonshot's vendor verifier against the emulator (``-- RUN-PATTERN`` to pick runs).

    Needs ``../shared/conformance/kimi-vendor-verifier`` (or ``KIMI_VENDOR_VERIFIER``); skips
    in a plain clone. Not part of the README's test command.
    """
    folder = os.environ.get("KIMI_VENDOR_VERIFIER") or str(
        ROOT.parent / "shared" / "conformance" / "kimi-vendor-verifier"
    )
    if not (Path(folder) / "tests" / "conftest.py").is_file():
        session.skip(f"Moonshot's vendor verifier is not at {folder}; set KIMI_VENDOR_VERIFIER")
    _sync(session, "--all-packages", "--group", "conformance")
    session.run(
        "python",
        "tests/conformance/verifier.py",
        *session.posargs,
        env={"KIMI_VENDOR_VERIFIER": folder},
    )


@nox.session(python=PYTHON)
def main(session: nox.Session) -> None:
    """The README's main job: the real API with MOONSHOT_API_KEY, else the embedded emulator."""
    _sync(session, "--all-packages", "--group", "examples")
    session.run("python", "examples/main.py", *session.posargs)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the MkDocs site with --strict (broken links, nav entries or docstrings fail)."""
    _sync(session, "--all-packages", "--only-group", "docs")
    session.run(
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        str(ROOT / "site"),
        env={"NO_MKDOCS_2_WARNING": "1"},
    )


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every script in examples/ against the embedded emulator (never the real API)."""
    _sync(session, "--all-packages", "--group", "examples")
    offline = {
        "MOONSHOT_API_KEY": "",
        "KIMI_API_KEY": "",
        "MOONSHOT_BASE_URL": "",
        "KIMI_BASE_URL": "",
    }
    for script in sorted(ROOT.glob("examples/*.py")):
        if script.name.startswith("_"):
            continue
        output = session.run("python", str(script), env=offline, silent=True)
        print(output)
        # The issue-8 contract: without a key, the first line says the emulator is in use.
        if not str(output).startswith("MOONSHOT_API_KEY is not set"):
            session.error(f"{script.name}: the first output line does not name the emulator")
