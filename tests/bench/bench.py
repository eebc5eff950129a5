"""Issue 6 and 17 benchmark suite: ``nox -s bench`` (``-- --quick`` while developing).

Runs the raw openai SDK, a plain httpx + ``json.loads`` floor, ChatKimi, Kimi (LlamaIndex), the
peers ChatOpenAI(base_url=...) and llama-index OpenAILike, and minimal-adapter floors of both
frameworks against the kimi-emulator in a separate process. Prints the table and the targets and
writes everything to ``bench-results/`` (JSON, Markdown). See ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from bench_answer import Expected
from bench_batch import batch_table, run_batch_scenario
from bench_clients import CLIENTS, Client, available_clients
from bench_floors import FLOORS
from bench_growth import growth_table, run_growth
from bench_report import (
    details_table,
    evaluate,
    markdown_table,
    paired_exponents,
    summarize_series,
    summarize_values,
    targets_table,
)
from bench_scenarios import (
    FULL,
    QUICK,
    Config,
    run_cold_imports,
    run_concurrent,
    run_in_process,
    run_peak_rss,
)
from bench_server import EmulatorProcess
from bench_ttft import run_ttft, ttft_table

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("S1", "S2", "S2P", "S3", "S3P", "S4", "S5", "S6", "S7", "S8", "S9")
DISTRIBUTIONS = (
    "openai",
    "httpx2",
    "pydantic",
    "langchain-core",
    "langchain-openai",
    "llama-index-core",
    "llama-index-llms-openai-like",
    "kimi-core",
    "langchain-kimi",
    "llama-index-llms-kimi",
    "kimi-emulator",
)


def _log(message: str) -> None:
    print(message, flush=True)


def _versions() -> dict[str, str]:
    out = {}
    for name in DISTRIBUTIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _events(size: Expected) -> int:
    return size.reasoning + size.content


def _in_process(
    results: dict[str, Any],
    name: str,
    title: str,
    call: str,
    classes: list[type[Client]],
    server: EmulatorProcess,
    size: Expected,
    calls: int,
    per: int,
    samples: int,
) -> None:
    _log(f"{title}")
    (series,) = run_in_process(
        call, classes, server, [size], calls=calls, samples=samples, log=_log
    )
    results[name] = {
        "title": title,
        "metric": "cpu",
        "clients": summarize_series(series, "cpu", per),
    }


def run(
    config: Config,
    only: set[str],
    classes: list[type[Client]],
    out_dir: Path,
    results: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every scenario in ``only``, filling ``results`` as each ends (kept if a later one fails)."""
    results = {} if results is None else results
    with EmulatorProcess() as server:
        _log(f"emulator (pid {server.pid}) at {server.base_url}")
        if "S1" in only:
            _in_process(
                results,
                "S1",
                f"S1 {config.s1_calls} sequential short invokes (CPU)",
                "invoke",
                classes,
                server,
                config.s1_size,
                config.s1_calls,
                config.s1_calls,
                config.samples,
            )
        if "S2" in only:
            size = config.s2_size
            _in_process(
                results,
                "S2",
                f"S2 stream {size.reasoning:,} reasoning + {size.content:,} content events (CPU)",
                "stream",
                classes,
                server,
                size,
                1,
                _events(size),
                config.samples,
            )
        paced = config.paced_size
        for name, call, what in (
            ("S2P", "stream", "stream"),
            ("S3P", "invoke_streaming", "as one message"),
        ):
            if name in only:
                _in_process(
                    results,
                    f"{name[:2]} paced",
                    f"{name[:2]} paced ({paced.pace * 1000:g} ms between events): "
                    f"{paced.reasoning:,} + {paced.content:,} events {what} (CPU)",
                    call,
                    classes,
                    server,
                    paced,
                    1,
                    _events(paced),
                    config.samples,
                )
        if "S8" in only:
            _log("S8 time to first token (wall)")
            results["S8"] = run_ttft(
                server.base_url, server.api_key, config.s8_delay, config.samples, log=_log
            )
        if "S3" in only:
            small, large = config.s3_sizes
            title = "S3 {:,} + {:,} events as one message (CPU)"
            _log("S3 " + ", ".join(f"{s.reasoning:,}" for s in config.s3_sizes) + " events")
            per_size = run_in_process(
                "invoke_streaming",
                classes,
                server,
                [small, large],
                calls=1,
                samples=config.s3_samples,
                log=_log,
            )
            for label, size, series in zip(
                ("S3 small", "S3 large"), (small, large), per_size, strict=True
            ):
                results[label] = {
                    "title": title.format(size.reasoning, size.content),
                    "metric": "cpu",
                    "clients": summarize_series(series, "cpu", _events(size)),
                }
            results["S3 exponent"] = paired_exponents(
                per_size[0], per_size[1], _events(small), _events(large)
            )
        if "S9" in only:
            _log("S9 growth of CPU with the answer, every adapter path")
            results["S9"] = run_growth(
                classes, server, config.s9_sizes, config.s3_samples, log=_log
            )
        if "S4" in only:
            title = f"S4 {config.s4_calls} concurrent async calls (wall)"
            _log(title)
            series = run_concurrent(
                classes,
                server,
                config.s1_size,
                calls=config.s4_calls,
                samples=config.samples,
                log=_log,
            )
            results["S4"] = {
                "title": title,
                "metric": "wall",
                "clients": summarize_series(series, "wall", config.s4_calls),
            }
        if "S5" in only:
            # CPU, not wall: on a shared machine the wall time of a cold import mostly measures
            # the other processes.
            title = "S5 cold import (CPU, fresh interpreter)"
            _log(title)
            modules = {cls.key: cls.module for cls in classes}
            values = run_cold_imports(modules, config.s5_samples, log=_log)
            results["S5"] = {
                "title": title,
                "metric": "cpu",
                "modules": modules,
                "clients": summarize_values(values, "cpu", "sdk"),
            }
        if "S6" in only:
            size = config.s6_size
            title = f"S6 peak RSS growth, {size.reasoning:,} reasoning events as one message"
            _log(title)
            values = run_peak_rss(classes, server, size, config.s6_samples, log=_log)
            results["S6"] = {
                "title": title,
                "metric": "rss",
                "clients": summarize_values(values, "growth", "sdk"),
            }
    if "S7" in only:
        _log("S7 Batch API build and parse per request (CPU, in process)")
        results["S7"] = run_batch_scenario(config.s7_lines, config.samples)
    return results


def _profile(config: Config, classes: list[type[Client]], out_dir: Path) -> None:
    from bench_profile import profile_clients

    scenarios = {
        "S1": ("invoke", config.s1_size, max(config.s1_calls // 5, 20)),
        "S2": ("stream", config.s2_size, 1),
        "S3": ("invoke_streaming", config.s3_sizes[-1], 1),
        "S4": ("ainvoke", config.s1_size, config.s4_calls),
    }
    with EmulatorProcess() as server:
        profile_clients(classes, server, scenarios, out_dir / "profiles", log=_log)


def _json_default(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _report(results: dict[str, Any], verdicts: list[dict[str, Any]], run_line: str) -> str:
    return "\n\n".join(
        [
            run_line,
            "## Ratios to the raw openai SDK (medians; lower is better)",
            markdown_table(results),
            "## Targets",
            targets_table(verdicts),
            "## Details",
            details_table(results),
            *([batch_table(results["S7"])] if "S7" in results else []),
            *([ttft_table(results["S8"])] if "S8" in results else []),
            *([growth_table(results["S9"])] if "S9" in results else []),
        ]
    )


_NUMBERS = {"value", "ratio", "cpu", "wall", "gc", "per_unit", "exponent", "small_us", "large_us"}


def _restored(value: Any, key: str = "") -> Any:
    """A saved result with its NaNs back (the JSON holds them as null)."""
    if isinstance(value, dict):
        inner = key == "S3 exponent"
        return {k: (math.nan if inner and v is None else _restored(v, k)) for k, v in value.items()}
    if value is None and key in _NUMBERS:
        return math.nan
    return value


def rerender(path: Path) -> str:
    """The report of a saved run (``latest.json``), with the targets evaluated again."""
    payload = json.loads(path.read_text())
    results = _restored(payload["results"])
    meta = payload["meta"]
    run_line = meta.get("run_line") or f"Run {meta['date']}, Python {meta['python']}."
    return _report(results, evaluate(results), run_line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 samples")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="e.g. S1,S3")
    parser.add_argument("--clients", default="", help="client keys, e.g. sdk,chatkimi")
    parser.add_argument("--samples", type=int, default=0, help="override the repetitions")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles only")
    parser.add_argument("--out", default=str(ROOT / "bench-results"), help="output folder")
    parser.add_argument("--report", default="", help="print the report of a saved JSON and stop")
    args = parser.parse_args(argv)
    if args.report:
        print(rerender(Path(args.report)))
        return 0

    # Tracing would add its own per-call cost to the framework clients.
    for var in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING"):
        os.environ.pop(var, None)
    config = QUICK if args.quick else FULL
    if args.samples:
        config = replace(
            config,
            samples=args.samples,
            s3_samples=args.samples,
            s5_samples=args.samples,
            s6_samples=max(1, args.samples // 4),
        )
    wanted = [
        c for c in [*CLIENTS, *FLOORS] if not args.clients or c.key in args.clients.split(",")
    ]
    if not any(c.key == "sdk" for c in wanted):
        wanted.insert(0, CLIENTS[0])  # every ratio is to the raw SDK
    classes, skipped = available_clients(wanted)
    for key, why in skipped.items():
        _log(f"client {key} left out: {why}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.profile:
        _profile(config, classes, out_dir)
        return 0

    only = {s.strip().upper() for s in args.only.split(",")}
    started = time.time()
    results: dict[str, Any] = {}
    try:
        run(config, only, classes, out_dir, results)
    except BaseException:
        # A long run that fails late keeps what it measured.
        partial = out_dir / "partial.json"
        partial.write_text(json.dumps(_clean({"results": results}), default=_json_default))
        _log(f"the run failed; what it measured is in {partial}")
        raise
    verdicts = evaluate(results)
    versions = _versions()
    run_line = (
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}"
        f"{' (--quick)' if args.quick else ''}: {config.samples} samples (S3 {config.s3_samples}, "
        f"S5 {config.s5_samples}, S6 {config.s6_samples}), Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + "."
    )
    report = _report(results, verdicts, run_line)
    print("\n" + report, flush=True)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "run_line": run_line,
        "seconds": round(time.time() - started, 1),
        "quick": args.quick,
        "config": {k: str(v) for k, v in vars(config).items()},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "skipped_clients": skipped,
    }
    payload = _clean({"meta": meta, "results": results, "targets": verdicts})
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started))
    for name in (f"bench-{stamp}.json", "latest.json"):
        (out_dir / name).write_text(json.dumps(payload, indent=1, default=_json_default))
    (out_dir / "latest.md").write_text(report + "\n")
    _log(f"\nwrote {out_dir / 'latest.json'} and {out_dir / 'latest.md'}")
    # Targets are reported, not enforced (timings vary by machine); a Kimi client or a floor that
    # failed or gave an incomplete answer is a bug, and fails the run.
    broken = _broken(results, {c.key for c in classes if c.role in ("kimi", "framework floor")})
    for line in broken:
        _log(f"FAILED: {line}")
    return 1 if broken else 0


def _broken(results: dict[str, Any], keys: set[str]) -> list[str]:
    out = []
    for name, scenario in results.items():
        if not isinstance(scenario, dict):
            continue
        for key, row in scenario.get("clients", {}).items():
            if key in keys and (row.get("error") or row.get("missing")):
                why = row.get("error") or "incomplete: " + ", ".join(row["missing"])
                out.append(f"{name} {key}: {why}")
    return out


if __name__ == "__main__":
    sys.exit(main())
