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
# The README's (and CI's) test command, so a bare `nox` checks what CI checks.
nox.options.sessions = ["lint", "typecheck", "tests", "docs", "examples"]
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


def _lowest_requirements(package: str) -> list[str]:
    """The package and its ``test`` group, workspace members as local paths."""
    pyproject = tomllib.loads((PACKAGES[package] / "pyproject.toml").read_text())
    wanted = [package, *pyproject.get("dependency-groups", {}).get("test", [])]
    local = {name: str(path) for name, path in PACKAGES.items()}
    # Workspace members the package needs come from this checkout, not from an index.
    local_deps = [dep for dep in pyproject["project"].get("dependencies", []) if dep in local]
    return [local.get(req, req) for req in [*wanted, *local_deps]]


for _name in PACKAGES:

    @nox.session(python=PYTHON, name=f"lowest-{_name}")
    def _lowest_tests(session: nox.Session, package: str = _name) -> None:
        """The package's tests against the lowest versions its metadata allows."""
        session.run_install(
            "uv",
            "pip",
            "install",
            "--resolution",
            "lowest-direct",
            *_lowest_requirements(package),
            env={"VIRTUAL_ENV": session.virtualenv.location},
        )
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
    _sync(session, "--all-packages", "--group", "lint", "--group", "examples")
    session.run(
        "mypy", *(str(p / "src") if (p / "src").exists() else str(p) for p in PACKAGES.values())
    )
    # The examples are what users copy: they type-check as strictly as the packages (from their
    # own folder, where they import their shared helper). Ray's `.remote` API is generated at run
    # time and its group is not installed here: the Ray example is checked by `nox -s ray`.
    with session.chdir(ROOT / "examples"):
        session.run(
            "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--exclude", "^ray/", "."
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


_OFFLINE = {
    "MOONSHOT_API_KEY": "",
    "KIMI_API_KEY": "",
    "MOONSHOT_BASE_URL": "",
    "KIMI_BASE_URL": "",
}


def _run_example(session: nox.Session, script: Path) -> None:
    output = session.run("python", str(script), env=_OFFLINE, silent=True)
    print(output)
    # The issue-8 contract: without a key, the first line says the emulator is in use.
    if not str(output).startswith("MOONSHOT_API_KEY is not set"):
        session.error(f"{script.name}: the first output line does not name the emulator")


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every script in examples/ against the embedded emulator (never the real API)."""
    _sync(session, "--all-packages", "--group", "examples")
    for script in sorted(ROOT.glob("examples/*.py")):
        if not script.name.startswith("_"):
            _run_example(session, script)


@nox.session(python=PYTHON)
def ray(session: nox.Session) -> None:
    """The Ray scale-out example and its test, on a local Ray instance against the emulator."""
    _sync(session, "--all-packages", "--group", "test", "--group", "ray")
    _run_example(session, ROOT / "examples" / "ray" / "ray_online.py")
    session.run("pytest", "tests/scale_out", *session.posargs)


@nox.session(python=PYTHON)
def live(session: nox.Session) -> None:
    """The few tests against the real Moonshot API (needs MOONSHOT_API_KEY; never run in CI)."""
    if not (os.environ.get("MOONSHOT_API_KEY") or os.environ.get("KIMI_API_KEY")):
        session.skip("MOONSHOT_API_KEY (or KIMI_API_KEY) is not set")
    _sync(session, "--all-packages", "--group", "test")
    session.run("pytest", "tests/live", "--live", *session.posargs)
