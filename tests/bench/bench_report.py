"""Summaries, the targets of issues 6 and 17, and the tables (terminal and Markdown)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from typing import Any

from bench_measure import Series, growth_exponent

__all__ = ["TARGETS", "Target", "evaluate", "markdown_table", "summarize_series"]

COLUMNS = [
    "sdk",
    "httpx",
    "chatopenai",
    "chatkimi",
    "chatkimi-per-event",
    "lc-floor",
    "openailike",
    "kimi",
    "kimi-per-event",
    "li-floor",
]
HEADERS = {
    "sdk": "raw openai SDK",
    "httpx": "httpx + json.loads",
    "chatopenai": "ChatOpenAI + base_url",
    "chatkimi": "ChatKimi",
    "chatkimi-per-event": "ChatKimi (per event)",
    "lc-floor": "LangChain floor",
    "openailike": "llama-index OpenAILike",
    "kimi": "Kimi (LlamaIndex)",
    "kimi-per-event": "Kimi (LlamaIndex, per event)",
    "li-floor": "LlamaIndex floor",
}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def summarize_series(series: dict[str, Series], metric: str, per: int) -> dict[str, Any]:
    """Medians and ratios to the raw SDK for one in-process scenario.

    Args:
        series: Samples per client.
        metric: ``cpu`` or ``wall``: what the ratio compares.
        per: Calls or events per sample, for the per-unit figure.
    """
    base = series["sdk"].median(metric) if "sdk" in series else math.nan
    out: dict[str, Any] = {}
    for key, s in series.items():
        value = s.median(metric)
        out[key] = {
            "cpu": s.median("cpu"),
            "wall": s.median("wall"),
            "gc": s.median("gc"),
            "value": value,
            "per_unit": value / per if per else math.nan,
            "ratio": value / base if base and not math.isnan(base) else math.nan,
            "missing": sorted(s.missing),
            "error": s.error,
            # How many pieces a stream handed over (events that came in one read may be merged).
            "chunks": statistics.median(s.chunks) if s.chunks else 0,
            "samples": [[x.cpu, x.wall, x.gc, x.collections] for x in s.samples],
        }
    return out


def summarize_values(
    values: dict[str, dict[str, Any]], field: str, base_key: str
) -> dict[str, Any]:
    """Medians and ratios for the subprocess scenarios (S5 ``wall``, S6 ``growth``)."""
    base = _median(values.get(base_key, {}).get(field, []))
    out: dict[str, Any] = {}
    for key, v in values.items():
        value = _median(v.get(field, []))
        out[key] = {
            "value": value,
            "ratio": value / base if base and not math.isnan(base) else math.nan,
            "missing": sorted(v.get("missing", ())),
            "error": v.get("error"),
            "samples": list(v.get(field, [])),
        }
        for extra in ("cpu", "wall"):
            if extra in v and extra != field:
                out[key][extra] = _median(v[extra])
    return out


@dataclass(frozen=True)
class Target:
    """One target: ``client``'s ``what`` in ``scenario`` must be <= ``limit``.

    ``what`` is ``ratio`` (to the raw SDK, or to ``peer``), ``exponent`` (growth of CPU with the
    answer; S3, or S9 on ``path``) or ``ttft`` (S8: milliseconds over the raw SDK, ``client``
    being the S8 path).
    """

    scenario: str
    client: str
    limit: float
    what: str = "ratio"
    peer: str | None = None
    path: str | None = None

    @property
    def label(self) -> str:
        name = HEADERS.get(self.client, self.client)
        if self.what == "ttft":
            return f"S8: {name} <= {self.limit:g} ms over the raw SDK to the first token"
        if self.what == "exponent":
            where = f"S9 {self.path}" if self.path else "S3"
            return f"{where} growth exponent, {name} <= {self.limit:.2f}"
        if self.peer:
            return f"{self.scenario}: {name} <= {self.limit:.2f} x {HEADERS[self.peer]}"
        return f"{self.scenario}: {name} <= {self.limit:.2f} x raw SDK"


ISSUE_6 = [
    *(Target("S1", c, 1.00) for c in ("chatkimi", "kimi")),
    *(Target("S2", c, 0.80) for c in ("chatkimi", "kimi")),
    *(Target(s, c, 0.80) for s in ("S3 small", "S3 large") for c in ("chatkimi", "kimi")),
    *(Target("S3", c, 1.02, what="exponent") for c in ("chatkimi", "kimi")),
    *(Target("S4", c, 1.00) for c in ("chatkimi", "kimi")),
    Target("S5", "chatkimi", 0.70, peer="chatopenai"),
    Target("S5", "kimi", 0.80, peer="openailike"),
    *(Target("S6", c, 1.20) for c in ("chatkimi", "kimi")),
]
# Issue 17 section 5: paced streams per event, growth on every adapter path, cold import (the
# raw SDK's S5 figure is `import openai`), time to first token of the plain calls.
ISSUE_17 = [
    *(Target("S2 paced", c, 1.30, peer="httpx") for c in ("chatkimi", "kimi")),
    *(
        Target("S9", c, 1.05, what="exponent", path="stream")
        for c in ("chatkimi", "chatkimi-per-event", "kimi", "kimi-per-event")
    ),
    *(
        Target("S9", c, 1.05, what="exponent", path="one message")
        for c in ("chatkimi", "kimi", "kimi-per-event")
    ),
    Target("S5", "chatkimi", 0.50),
    *(
        Target("S8", path, 1.0, what="ttft")
        for path in ("ChatKimi.stream", "ChatKimi.astream", "Kimi.stream_chat", "Kimi.astream_chat")
    ),
]
TARGETS = [*ISSUE_6, *ISSUE_17]

# Loopback scenarios and their paced twins (one event per network write, as over a network): a
# loopback figure is reported as met only with its twin (issue 17).
PACED_TWIN = {"S2": "S2 paced", "S3 small": "S3 paced", "S3 large": "S3 paced"}

FLOOR_OF = {
    "chatkimi": "lc-floor",
    "chatkimi-per-event": "lc-floor",
    "kimi": "li-floor",
    "kimi-per-event": "li-floor",
}


def _value(results: dict[str, Any], target: Target, client: str) -> float:
    if target.what == "ttft":
        row = results.get("S8", {}).get("paths", {}).get(client)
        return math.nan if row is None else float(row["over_sdk_ms"])
    if target.what == "exponent" and target.path:
        row = results.get("S9", {}).get("paths", {}).get(target.path, {}).get(client)
        return math.nan if row is None or row.get("error") else float(row["exponent"])
    if target.what == "exponent":
        return float(results.get("S3 exponent", {}).get(client, math.nan))
    row = results.get(target.scenario, {}).get("clients", {}).get(client)
    if row is None or row.get("error"):
        return math.nan
    if target.peer:
        peer = results[target.scenario]["clients"].get(target.peer)
        if peer is None or peer.get("error") or not peer["value"]:
            return math.nan
        return float(row["value"] / peer["value"])
    return float(row["ratio"])


def _missing(results: dict[str, Any], target: Target) -> list[str]:
    if target.what == "ttft":
        return []
    if target.path:
        row = results.get("S9", {}).get("paths", {}).get(target.path, {}).get(target.client, {})
        return list(row.get("missing", []))
    # An exponent needs complete answers at both sizes.
    scenarios = ("S3 small", "S3 large") if target.what == "exponent" else (target.scenario,)
    return sorted(
        {
            part
            for name in scenarios
            for part in results.get(name, {})
            .get("clients", {})
            .get(target.client, {})
            .get("missing", [])
        }
    )


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with its measured value, verdict, and the framework floor's value."""
    rows = []
    for target in TARGETS:
        value = _value(results, target, target.client)
        floor_key = FLOOR_OF.get(target.client)
        floor = _value(results, target, floor_key) if floor_key else math.nan
        missing = _missing(results, target)
        twin_name = PACED_TWIN.get(target.scenario) if target.what == "ratio" else None
        twin = (
            _value(results, replace(target, scenario=twin_name), target.client)
            if twin_name
            else math.nan
        )
        if math.isnan(value):
            verdict = "NOT MEASURED"
        elif missing:
            verdict = "NOT MET (incomplete: " + ", ".join(missing) + ")"
        elif value <= target.limit:
            verdict = "MET"
            if twin_name and math.isnan(twin):
                verdict = "MET on loopback; paced twin not measured"
            elif twin_name and twin > target.limit:
                verdict = f"MET on loopback only (paced {twin:.2f})"
        elif not math.isnan(floor) and floor > target.limit:
            verdict = f"NOT MET (framework floor {floor:.2f} > {target.limit:.2f})"
        else:
            verdict = "NOT MET"
        rows.append(
            {
                "target": target.label,
                "value": value,
                "paced": twin,
                "limit": target.limit,
                "floor": floor,
                "verdict": verdict,
            }
        )
    return rows


def _cell(row: dict[str, Any] | None, absolute: str) -> str:
    if row is None:
        return "-"
    if row.get("error"):
        return "error"
    ratio = row.get("ratio", math.nan)
    text = "-" if math.isnan(ratio) else f"{ratio:.2f}"
    if absolute:
        text += f" ({absolute})"
    if row.get("missing"):
        text += " (no " + ", ".join(row["missing"]) + ")"
    return text


def _absolute(scenario: str, row: dict[str, Any]) -> str:
    value = row.get("value", math.nan)
    if math.isnan(value):
        return ""
    if scenario == "S1":
        return f"{row['per_unit'] * 1e3:.2f} ms/call"
    if scenario.startswith(("S2", "S3")):
        return f"{row['per_unit'] * 1e6:.1f} us/event"
    if scenario == "S4":
        return f"{value:.2f} s wall"
    if scenario == "S5":
        return f"{value:.2f} s"
    if scenario == "S6":
        return f"{value / 2**20:.1f} MiB"
    return ""


def markdown_table(results: dict[str, Any]) -> str:
    """The headline table: scenarios by clients, ratios to the raw SDK (absolute for the SDK)."""
    present = [
        c
        for c in COLUMNS
        if any(c in s.get("clients", {}) for s in results.values() if isinstance(s, dict))
    ]
    lines = [
        "| scenario | " + " | ".join(HEADERS[c] for c in present) + " |",
        "|---" * (len(present) + 1) + "|",
    ]
    for name, scenario in results.items():
        if not isinstance(scenario, dict) or "clients" not in scenario:
            continue
        cells = []
        for c in present:
            row = scenario["clients"].get(c)
            absolute = _absolute(name, row) if row is not None and c == "sdk" else ""
            cells.append(_cell(row, absolute))
        lines.append(f"| {scenario['title']} | " + " | ".join(cells) + " |")
    exponents = results.get("S3 exponent")
    if exponents:
        cells = [
            "-" if math.isnan(exponents.get(c, math.nan)) else f"{exponents[c]:.2f}"
            for c in present
        ]
        lines.append("| S3 growth exponent (CPU vs events) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def details_table(results: dict[str, Any]) -> str:
    """Per scenario and client: CPU, wall and GC medians."""
    lines = [
        "| scenario | client | CPU s | wall s | GC s | ratio | pieces | complete |",
        "|---" * 8 + "|",
    ]
    for name, scenario in results.items():
        if not isinstance(scenario, dict) or "clients" not in scenario or name in ("S5", "S6"):
            continue
        for key, row in scenario["clients"].items():
            if row.get("error"):
                lines.append(
                    f"| {name} | {HEADERS.get(key, key)} | error: {row['error'][:60]} ||||||"
                )
                continue
            complete = "yes" if not row["missing"] else "no " + ", ".join(row["missing"])
            pieces = f"{row.get('chunks', 0):,.0f}" if row.get("chunks") else "-"
            lines.append(
                f"| {name} | {HEADERS.get(key, key)} | {row['cpu']:.3f} | {row['wall']:.3f} | "
                f"{row['gc']:.3f} | {row['ratio']:.2f} | {pieces} | {complete} |"
            )
    return "\n".join(lines)


def targets_table(rows: list[dict[str, Any]]) -> str:
    """The targets as Markdown: measured, the paced twin where there is one, floor, verdict."""
    lines = [
        "| target | measured | paced twin | framework floor | verdict |",
        "|---|---|---|---|---|",
    ]

    def text(value: float) -> str:
        return "-" if math.isnan(value) else f"{value:.2f}"

    for row in rows:
        cells = [text(row["value"]), text(row.get("paced", math.nan)), text(row["floor"])]
        lines.append(f"| {row['target']} | " + " | ".join(cells) + f" | {row['verdict']} |")
    return "\n".join(lines)


def paired_exponents(
    small: dict[str, Series], large: dict[str, Series], n_small: int, n_large: int
) -> dict[str, float]:
    """S3's growth exponent of CPU per client: the median over repetitions of the exponent
    between the two sizes measured back to back (so a busier machine later in the run does not
    pass for superlinear growth)."""
    out = {}
    for key, a in small.items():
        b = large.get(key)
        if b is None or a.error or b.error:
            continue
        pairs = [
            growth_exponent((n_small, x.cpu), (n_large, y.cpu))
            for x, y in zip(a.samples, b.samples, strict=False)
        ]
        pairs = [p for p in pairs if not math.isnan(p)]
        out[key] = statistics.median(pairs) if pairs else math.nan
    return out
