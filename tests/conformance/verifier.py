"""Run Moonshot's vendor verifier against ``kimi-emulator`` (``nox -s conformance``).

The suite lives outside the project (``../shared/conformance/kimi-vendor-verifier``, or the
folder named by ``KIMI_VENDOR_VERIFIER``) and is run from there, unchanged: nothing of it is
copied here. Each run starts its own emulator process on a free loopback port, runs one suite
with one model, and the summary prints pass/fail/skip counts per run. Known, reasoned
exceptions come from ``known_exceptions.toml`` (strict xfails); any other failure fails the
session.

Usage: ``python tests/conformance/verifier.py [RUN-PATTERN ...]`` (fnmatch on run names).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXCEPTIONS = HERE / "known_exceptions.toml"
_BASE_URL = re.compile(r"base URL (\S+)")
_STARTUP_LINES = 20


@dataclass(frozen=True)
class Run:
    """One suite against one model, on an emulator started with ``switches``."""

    name: str
    suite: str
    model: str
    args: tuple[str, ...] = ()
    switches: tuple[str, ...] = ()


RUNS: tuple[Run, ...] = (
    # The suite parametrizes thinking on and off itself.
    Run("params/kimi-k2.6", "tests/params", "kimi-k2.6"),
    # The suite's own expectation where it contradicts the reference (see known_exceptions.toml).
    Run(
        "params/kimi-k2.6/suite-switches",
        "tests/params",
        "kimi-k2.6",
        switches=("temperature_with_thinking=range",),
    ),
    Run("tool_call_json_schema/kimi-k2.6/thinking-off", "tests/tool_call_json_schema", "kimi-k2.6"),
    # The suite forces tool_choice "required"; with thinking on kimi-k2.6 answers 400 live
    # (moonshotai-required-tool-choice-error.json), so this run uses the suite's switch.
    Run(
        "tool_call_json_schema/kimi-k2.6/thinking-on",
        "tests/tool_call_json_schema",
        "kimi-k2.6",
        args=("--thinking",),
        switches=("tool_choice_required_on_k26_thinking_on=accept",),
    ),
    Run("k3_features/kimi-k3", "tests/k3_features", "kimi-k3"),
    Run("k3_features/kimi-k3.1-pro", "tests/k3_features", "kimi-k3.1-pro"),
    # The self-hosted dialects (issue 16), with the suite's own switch for open-weight servers.
    *(
        Run(
            f"{suite.removeprefix('tests/')}/{model}/{dialect}",
            suite,
            model,
            args=("--think-mode", "opensource"),
            switches=(f"dialect={dialect}",),
        )
        for dialect in ("vllm", "sglang")
        for suite, model in (
            ("tests/params", "kimi-k2.6"),
            ("tests/tool_call_json_schema", "kimi-k2.6"),
            ("tests/k3_features", "kimi-k3"),
        )
    ),
)
_COLUMNS = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def find_verifier() -> Path | None:
    """The verifier folder, or None in a plain clone."""
    configured = os.environ.get("KIMI_VENDOR_VERIFIER")
    folder = (
        Path(configured)
        if configured
        else ROOT.parent / "shared" / "conformance" / "kimi-vendor-verifier"
    )
    return folder if (folder / "tests" / "conftest.py").is_file() else None


class Emulator:
    """``kimi-emulator`` in a child process on a free 127.0.0.1 port."""

    def __init__(self, switches: tuple[str, ...]) -> None:
        self.api_key = f"sk-conformance-{secrets.token_hex(8)}"
        command = [sys.executable, "-m", "kimi_emulator.cli", "--port", "0"]
        command += ["--api-key", self.api_key]
        for switch in switches:
            command += ["--set", switch]
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.base_url = self._read_base_url()

    def _read_base_url(self) -> str:
        assert self._process.stdout is not None
        seen = []
        for _ in range(_STARTUP_LINES):
            line = self._process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if match := _BASE_URL.search(line):
                return match.group(1)
        self.close()
        raise RuntimeError("kimi-emulator did not start:\n" + "".join(seen))

    def close(self) -> None:
        """Stop the child and release its pipe."""
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def run_suite(run: Run, verifier: Path, workdir: Path) -> dict[str, int]:
    """Run one suite and return its outcome counts."""
    counts_file = workdir / f"{run.name.replace('/', '_')}.json"
    emulator = Emulator(run.switches)
    try:
        command = [
            sys.executable,
            "-m",
            "pytest",
            run.suite,
            "--rootdir",
            str(verifier),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:kimi_emulator",
            "-p",
            "no:asyncio",  # the workspace's pytest-asyncio is not the suite's
            "-p",
            "no:benchmark",  # it would create .benchmarks/ in the suite's folder
            "-p",
            "expectations_plugin",
            "-q",
            "-rfEX",
            "--base-url",
            emulator.base_url,
            "--api-key",
            emulator.api_key,
            "--smoke-model",
            run.model,
            *run.args,
        ]
        if "tool_call_json_schema" in run.suite:
            command += ["--tool-json-report", str(workdir / "tool-call-schema-report.json")]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            "PYTHONDONTWRITEBYTECODE": "1",  # leave the shared folder as it was
            "KIMI_CONFORMANCE_RUN": run.name,
            "KIMI_CONFORMANCE_EXCEPTIONS": str(EXCEPTIONS),
            "KIMI_CONFORMANCE_COUNTS": str(counts_file),
        }
        print(f"\n=== {run.name}: {run.suite} on {run.model}", flush=True)
        if run.switches:
            print(f"    emulator switches: {', '.join(run.switches)}", flush=True)
        subprocess.run(command, cwd=verifier, env=env, check=False)
    finally:
        emulator.close()
    if not counts_file.is_file():
        return {"error": 1}
    counts: dict[str, int] = json.loads(counts_file.read_text(encoding="utf-8"))
    return counts


def main(argv: list[str]) -> int:
    """Run the selected runs (all by default); 0 when only known exceptions failed."""
    verifier = find_verifier()
    if verifier is None:
        print(
            "conformance: Moonshot's vendor verifier is not next to this checkout "
            "(../shared/conformance/kimi-vendor-verifier); set KIMI_VENDOR_VERIFIER to run it."
        )
        return 0
    runs = [r for r in RUNS if not argv or any(fnmatch.fnmatch(r.name, p) for p in argv)]
    results: list[tuple[Run, dict[str, int]]] = []
    with tempfile.TemporaryDirectory(prefix="kimi-conformance-") as tmp:
        for run in runs:
            results.append((run, run_suite(run, verifier, Path(tmp))))
    width = max(len(run.name) for run, _ in results)
    print("\n" + "run".ljust(width) + "".join(f"{c:>9}" for c in _COLUMNS))
    bad = False
    for run, counts in results:
        print(run.name.ljust(width) + "".join(f"{counts.get(c, 0):>9}" for c in _COLUMNS))
        unexpected = sum(counts.get(c, 0) for c in ("failed", "error", "xpassed"))
        bad = bad or unexpected > 0 or counts.get("unmatched_exceptions", 0) > 0
    print("conformance: " + ("UNEXPECTED FAILURES" if bad else "green (known exceptions only)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
