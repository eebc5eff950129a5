"""Soak: thousands of mixed ChatKimi / Kimi calls against an emulator injecting ~20% faults.

Every call must end inside its deadline with either a complete, correct result or a typed error;
open sockets must return to their starting count and memory must not grow with the call count.
``python tests/soak/soak_harness.py --calls 2000`` (``nox -s soak``) prints the figures; the CI
test runs a few hundred calls through :func:`run_soak`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kimi_core
from langchain_core import exceptions as lc
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.kimi import Kimi

KINDS = ("invoke", "ainvoke", "stream", "astream", "tools", "atools", "search", "asearch")
TIMEOUT = 2.0  # per request; the slow faults (first byte, mid-stream stall) exceed it
STALL = 3.0
DEADLINE = 60.0  # per call, far beyond the worst legitimate case (~20 s): only a hang exceeds it
SEARCH_ANSWER = "According to the search results"


def product(code: str) -> str:
    """Look up a product by its code."""
    return f"product {code} costs {len(code) * 3} euros"


lc_product = tool(product)
li_product = FunctionTool.from_defaults(fn=product, name="product")


# -- process figures (Linux /proc; the CI and nox sessions run there) ------------------------------


def open_sockets(port: int) -> int:
    """TCP sockets this process holds open to ``port`` (the soak server's).

    Counting only these keeps the figure free of anything else the process (e.g. a test
    session's own emulator) has open.
    """
    inodes = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed between listdir and readlink
            continue
        count += target.startswith("socket:[") and target[8:-1] in inodes
    return count


def rss_mib() -> float:
    """Resident set size in MiB, after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- the server process ------------------------------------------------------------------------


class SoakServer:
    """``soak_server.py`` as a child process."""

    def __init__(self, rate: float, seed: int) -> None:
        script = Path(__file__).with_name("soak_server.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(rate), str(seed), str(STALL)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().split()[1]
        self.api_key = self.proc.stdout.readline().split()[1]

    def stats(self) -> dict[str, Any]:
        """Faults injected and chat requests served so far."""
        import json

        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        stats: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return stats

    def close(self) -> None:
        """Stop the server (end of its input)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- calls -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One planned call: which framework, what kind, and the number that makes it unique."""

    framework: str
    kind: str
    n: int

    @property
    def is_async(self) -> bool:
        return self.kind.startswith("a")


class WrongResult(AssertionError):
    """A call that finished without error but with an incomplete or wrong answer."""


def _check(condition: bool, call: Call, what: str) -> None:
    if not condition:
        raise WrongResult(f"{call}: {what}")


def _arithmetic(n: int) -> tuple[str, str]:
    a, b = 11 + n % 89, 7 + n % 13
    return f"What is {a} * {b}?", str(a * b)


class Drivers:
    """The call implementations, one model object per framework (shared pools)."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.port = int(base_url.rsplit(":", 1)[1].split("/", 1)[0])
        common: dict[str, Any] = {"api_key": api_key, "base_url": base_url, "timeout": TIMEOUT}
        self.chat_kimi = ChatKimi(**common, max_retries=2)
        self.lc_tools = self.chat_kimi.bind_tools([lc_product])
        self.lc_search = self.chat_kimi.bind_tools([{"type": "web_search"}])
        self.kimi = Kimi(**common, max_retries=2)
        self.kimi_search = Kimi(**common, max_retries=2, web_search=True)

    # ---- LangChain ---------------------------------------------------------------------------
    def langchain(self, call: Call) -> None:
        prompt, answer = _arithmetic(call.n)
        if call.kind == "invoke":
            message = self.chat_kimi.invoke(prompt)
            _check(message.text == answer, call, f"text {message.text!r} != {answer!r}")
            _check(answer in message.additional_kwargs["reasoning_content"], call, "reasoning")
        elif call.kind == "stream":
            chunks = list(self.chat_kimi.stream(prompt))
            text = "".join(c.text for c in chunks)
            _check(text == answer, call, f"streamed {text!r} != {answer!r}")
            _check(chunks[-1].response_metadata.get("finish_reason") == "stop", call, "finish")
        elif call.kind == "tools":
            code = f"P{call.n}"
            question = HumanMessage(f"Use product for '{code}'.")
            asked = self.lc_tools.invoke([question])
            _check(len(asked.tool_calls) == 1, call, f"tool calls {asked.tool_calls}")
            tool_call = asked.tool_calls[0]
            _check(tool_call["args"] == {"code": code}, call, f"args {tool_call['args']}")
            result = ToolMessage(
                lc_product.invoke(tool_call["args"]), tool_call_id=tool_call["id"], name="product"
            )
            final = self.lc_tools.invoke([question, asked, result])
            expected = f"The tool product returned: {product(code)}"
            _check(final.text == expected, call, f"final {final.text!r}")
        else:
            message = self.lc_search.invoke(f"Please search the web for Kimi, case {call.n}")
            _check(message.text.startswith(SEARCH_ANSWER), call, f"search {message.text[:60]!r}")
            _check(len(message.response_metadata["web_searches"]) == 1, call, "searches")

    async def alangchain(self, call: Call) -> None:
        prompt, answer = _arithmetic(call.n)
        if call.kind == "ainvoke":
            message = await self.chat_kimi.ainvoke(prompt)
            _check(message.text == answer, call, f"text {message.text!r} != {answer!r}")
        elif call.kind == "astream":
            chunks = [chunk async for chunk in self.chat_kimi.astream(prompt)]
            text = "".join(c.text for c in chunks)
            _check(text == answer, call, f"streamed {text!r} != {answer!r}")
            _check(chunks[-1].response_metadata.get("finish_reason") == "stop", call, "finish")
        elif call.kind == "atools":
            code = f"Q{call.n}"
            question = HumanMessage(f"Use product for '{code}'.")
            asked = await self.lc_tools.ainvoke([question])
            _check(len(asked.tool_calls) == 1, call, f"tool calls {asked.tool_calls}")
            tool_call = asked.tool_calls[0]
            result = ToolMessage(
                lc_product.invoke(tool_call["args"]), tool_call_id=tool_call["id"], name="product"
            )
            final = await self.lc_tools.ainvoke([question, asked, result])
            expected = f"The tool product returned: {product(code)}"
            _check(final.text == expected, call, f"final {final.text!r}")
        else:
            message = await self.lc_search.ainvoke(f"Please search the web for Kimi, case {call.n}")
            _check(message.text.startswith(SEARCH_ANSWER), call, f"search {message.text[:60]!r}")

    # ---- LlamaIndex --------------------------------------------------------------------------
    def llamaindex(self, call: Call) -> None:
        prompt, answer = _arithmetic(call.n)
        user = ChatMessage(role="user", content=prompt)
        if call.kind == "invoke":
            response = self.kimi.chat([user])
            _check(response.message.content == answer, call, f"text {response.message.content!r}")
        elif call.kind == "stream":
            responses = list(self.kimi.stream_chat([user]))
            text = "".join(r.delta or "" for r in responses)
            _check(text == answer, call, f"streamed {text!r} != {answer!r}")
            _check(responses[-1].additional_kwargs.get("finish_reason") == "stop", call, "finish")
        elif call.kind == "tools":
            code = f"R{call.n}"
            asked = self.kimi.chat_with_tools([li_product], user_msg=f"Use product for '{code}'.")
            history = self._tool_history(call, code, asked)
            final = self.kimi.chat(history).message.content
            _check(final == f"The tool product returned: {product(code)}", call, f"{final!r}")
        else:
            question = ChatMessage(
                role="user", content=f"Please search the web for Kimi, case {call.n}"
            )
            response = self.kimi_search.chat([question])
            text = response.message.content or ""
            _check(text.startswith(SEARCH_ANSWER), call, f"search {text[:60]!r}")
            _check(len(response.additional_kwargs["web_searches"]) == 1, call, "searches")

    def _tool_history(self, call: Call, code: str, asked: Any) -> list[ChatMessage]:
        """The history that answers the model's tool call (checked) with the tool's result."""
        calls = self.kimi.get_tool_calls_from_response(asked)
        _check([c.tool_kwargs for c in calls] == [{"code": code}], call, f"calls {calls}")
        result = li_product(**calls[0].tool_kwargs).content
        return [
            ChatMessage(role="user", content=f"Use product for '{code}'."),
            asked.message,
            ChatMessage(
                role="tool",
                content=result,
                additional_kwargs={"tool_call_id": calls[0].tool_id, "name": "product"},
            ),
        ]

    async def allamaindex(self, call: Call) -> None:
        prompt, answer = _arithmetic(call.n)
        user = ChatMessage(role="user", content=prompt)
        if call.kind == "ainvoke":
            response = await self.kimi.achat([user])
            _check(response.message.content == answer, call, f"text {response.message.content!r}")
        elif call.kind == "astream":
            responses = [r async for r in await self.kimi.astream_chat([user])]
            text = "".join(r.delta or "" for r in responses)
            _check(text == answer, call, f"streamed {text!r} != {answer!r}")
            _check(responses[-1].additional_kwargs.get("finish_reason") == "stop", call, "finish")
        elif call.kind == "atools":
            code = f"S{call.n}"
            asked = await self.kimi.achat_with_tools(
                [li_product], user_msg=f"Use product for '{code}'."
            )
            history = self._tool_history(call, code, asked)
            final = (await self.kimi.achat(history)).message.content
            _check(final == f"The tool product returned: {product(code)}", call, f"{final!r}")
        else:
            question = ChatMessage(
                role="user", content=f"Please search the web for Kimi, case {call.n}"
            )
            response = await self.kimi_search.achat([question])
            text = response.message.content or ""
            _check(text.startswith(SEARCH_ANSWER), call, f"search {text[:60]!r}")

    async def close(self) -> None:
        """Close the shared connection pools (sync, and this loop's async one)."""
        self.chat_kimi.client.sdk.close()
        await self.chat_kimi.client.async_sdk.close()
        self.kimi.client.sdk.close()
        await self.kimi.client.async_sdk.close()


# -- the run -----------------------------------------------------------------------------------


@dataclass
class SoakReport:
    """The figures of one soak run."""

    calls: int
    concurrency: int
    duration_s: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    faults_injected: dict[str, int] = field(default_factory=dict)
    chat_requests: int = 0
    sockets_before: int = 0
    sockets_idle_pool: int = 0
    sockets_after: int = 0
    rss_checkpoints_mib: list[float] = field(default_factory=list)
    slowest_call_s: float = 0.0

    @property
    def rss_growth_mib(self) -> float:
        """RSS growth from the first checkpoint (after warm-up) to the end."""
        return self.rss_checkpoints_mib[-1] - self.rss_checkpoints_mib[0]

    def lines(self) -> list[str]:
        """The figures, one per line."""
        injected = sum(self.faults_injected.values())
        return [
            f"calls: {self.calls} (concurrency {self.concurrency}), "
            f"duration {self.duration_s:.1f}s, slowest call {self.slowest_call_s:.1f}s",
            f"chat requests served: {self.chat_requests}; faults injected: {injected} "
            f"({injected / max(self.chat_requests, 1):.1%} of requests)",
            *(
                f"  {name.split(';message=')[0]}: {count}"
                for name, count in sorted(self.faults_injected.items())
            ),
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            "typed errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())),
            f"sockets: before {self.sockets_before}, after the run {self.sockets_idle_pool} "
            f"(idle keep-alive pool), after closing the pools {self.sockets_after}",
            "RSS MiB at 10%..100%: " + ", ".join(f"{r:.1f}" for r in self.rss_checkpoints_mib),
            f"RSS growth after warm-up: {self.rss_growth_mib:+.1f} MiB",
            f"failures: {len(self.failures)}",
            *(f"  {failure}" for failure in self.failures[:20]),
        ]


def plan(calls: int, seed: int) -> list[Call]:
    """A reproducible mix: both frameworks, every call kind, in a shuffled order."""
    rng = random.Random(seed)  # a reproducible workload
    return [
        Call(rng.choice(("langchain", "llamaindex")), KINDS[i % len(KINDS)], i)
        for i in rng.sample(range(calls), calls)
    ]


def _classify(call: Call, exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, WrongResult):
        return "wrong result", str(exc)
    if isinstance(exc, kimi_core.KimiError) and (
        call.framework != "langchain" or isinstance(exc, lc.ModelError)
    ):
        return "typed error", type(exc).__name__
    return "untyped error", f"{call}: {type(exc).__name__}: {exc}"


async def _run_calls(
    drivers: Drivers, work: list[Call], concurrency: int, report: SoakReport
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Call] = asyncio.Queue()
    for call in work:
        queue.put_nowait(call)
    checkpoints = {max(1, len(work) * k // 10) for k in range(1, 11)}
    done = 0

    async def one(call: Call, pool: ThreadPoolExecutor) -> None:
        nonlocal done
        started = time.monotonic()
        job: Awaitable[None]
        if call.is_async:
            run = drivers.alangchain if call.framework == "langchain" else drivers.allamaindex
            job = run(call)
        else:
            sync: Callable[[Call], None] = (
                drivers.langchain if call.framework == "langchain" else drivers.llamaindex
            )
            job = loop.run_in_executor(pool, sync, call)
        try:
            await asyncio.wait_for(job, DEADLINE)
        except TimeoutError:
            report.outcomes["hang"] += 1
            report.failures.append(f"{call}: no result within {DEADLINE:.0f}s")
        except Exception as exc:
            outcome, detail = _classify(call, exc)
            report.outcomes[outcome] += 1
            if outcome == "typed error":
                report.errors[detail] += 1
            else:
                report.failures.append(detail)
        else:
            report.outcomes["complete and correct"] += 1
        report.slowest_call_s = max(report.slowest_call_s, time.monotonic() - started)
        done += 1
        if done in checkpoints:
            report.rss_checkpoints_mib.append(rss_mib())

    async def worker(pool: ThreadPoolExecutor) -> None:
        # A fixed set of workers, not one task per call: finished calls leave nothing behind
        # that the harness itself keeps alive, so RSS measures the libraries.
        while not queue.empty():
            await one(queue.get_nowait(), pool)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        await asyncio.gather(*(worker(pool) for _ in range(concurrency)))
    report.sockets_idle_pool = open_sockets(drivers.port)
    await drivers.close()


def run_soak(
    calls: int = 2000, *, concurrency: int = 16, fault_rate: float = 0.2, seed: int = 7
) -> SoakReport:
    """Run the soak and return its figures (the caller decides what fails)."""
    report = SoakReport(calls=calls, concurrency=concurrency)
    server = SoakServer(fault_rate, seed)
    try:
        drivers = Drivers(server.base_url, server.api_key)
        report.sockets_before = open_sockets(drivers.port)
        started = time.monotonic()
        asyncio.run(_run_calls(drivers, plan(calls, seed), concurrency, report))
        report.duration_s = time.monotonic() - started
        report.sockets_after = open_sockets(drivers.port)
        stats = server.stats()
        report.faults_injected = stats["faults"]
        report.chat_requests = stats["chat_requests"]
    finally:
        server.close()
    return report


def failed_checks(report: SoakReport, *, rss_budget_mib: float) -> list[str]:
    """What is wrong with a run: failures, leaked sockets, memory growth."""
    problems = list(report.failures)
    total = sum(report.outcomes.values())
    if total != report.calls:
        problems.append(f"{report.calls - total} calls have no recorded outcome")
    if report.sockets_after != report.sockets_before:
        problems.append(f"sockets {report.sockets_before} -> {report.sockets_after}")
    if report.sockets_idle_pool > report.sockets_before + 2 * report.concurrency:
        problems.append(f"{report.sockets_idle_pool} sockets open after the run (leak)")
    if report.rss_growth_mib > rss_budget_mib:
        problems.append(f"RSS grew {report.rss_growth_mib:.1f} MiB after warm-up")
    return problems


def main() -> int:
    """``nox -s soak``: run, print the figures, exit non-zero on any problem."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rss-budget-mib", type=float, default=25.0)
    args = parser.parse_args()
    import faulthandler

    # The global watchdog: a hang anywhere dumps every thread's stack and ends the run.
    faulthandler.dump_traceback_later(max(600.0, args.calls * 0.5), exit=True)
    report = run_soak(
        args.calls, concurrency=args.concurrency, fault_rate=args.fault_rate, seed=args.seed
    )
    faulthandler.cancel_dump_traceback_later()
    print("\n".join(report.lines()))
    problems = failed_checks(report, rss_budget_mib=args.rss_budget_mib)
    print("PASS" if not problems else "FAIL:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
