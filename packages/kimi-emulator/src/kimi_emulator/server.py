"""``KimiEmulator``: a server thread (sync form) or the running loop (async form)."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from kimi_emulator.app import build_app
from kimi_emulator.batch_store import BatchStore
from kimi_emulator.config import EmulatorConfig
from kimi_emulator.faults import FaultRules
from kimi_emulator.files import FileStore
from kimi_emulator.script import Fault, Reply
from kimi_emulator.state import EmulatorState, RecordedRequest

__all__ = ["KimiEmulator"]


class KimiEmulator:
    """An offline Kimi API server on 127.0.0.1.

    Use ``with KimiEmulator() as emu:`` (server thread with its own loop) or
    ``async with KimiEmulator() as emu:`` (runs in the caller's loop). Then point any
    OpenAI-compatible
    client at ``emu.base_url`` with ``emu.api_key``.

    Args:
        host: Interface to bind (loopback by default).
        port: TCP port; 0 picks a free one.
        config: Behaviour switches; a default config has a fresh random API key.
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, config: EmulatorConfig | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._state = EmulatorState(self.config)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"KimiEmulator({where})"

    # ---- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._port is None:
            raise RuntimeError(
                "KimiEmulator is not running; use `with KimiEmulator() as emu:` first"
            )
        return self._port

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>/v1``, for ``OpenAI(base_url=...)``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def api_key(self) -> str:
        """The only key this server accepts."""
        return self.config.api_key

    # ---- test-facing API ---------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (Authorization redacted)."""
        return self._state.log()

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of ``POST /v1/chat/completions`` requests, in order."""
        return [
            r.body
            for r in self._state.log()
            if r.method == "POST" and r.path == "/v1/chat/completions" and isinstance(r.body, dict)
        ]

    @property
    def faults(self) -> FaultRules:
        """Standing fault rules (``every``, ``probability``, ``clear``)."""
        return self._state.faults

    @property
    def files(self) -> FileStore:
        """The uploaded files."""
        return self._state.files

    @property
    def batches(self) -> BatchStore:
        """The Batch API's batches (``/v1/batches``)."""
        return self._state.batches

    def script(self, item: Reply | Fault, *, when: str | None = None) -> None:
        """Queue a reply or fault for a coming chat request.

        Args:
            item: What the next (matching) chat request gets.
            when: If given, the item is used by the first request whose last message text contains
                this substring; otherwise items are used in order.
        """
        if not isinstance(item, Reply | Fault):
            raise TypeError(f"script() takes a Reply or a Fault, got {type(item).__name__}")
        self._state.enqueue(item, when)

    def reset(self) -> None:
        """Clear the script queue, fault rules, request log, files, batches and prompt cache."""
        self._state.reset()

    # ---- lifecycle: async ----------------------------------------------------------------------
    async def start_async(self) -> None:
        """Start serving in the running event loop."""
        runner = web.AppRunner(
            build_app(self._state), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port, backlog=1024)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])
        self._runner = runner

    async def stop_async(self) -> None:
        """Stop serving and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None

    async def __aenter__(self) -> KimiEmulator:
        await self.start_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()

    # ---- lifecycle: sync (own thread and loop) -------------------------------------------------
    def start(self) -> None:
        """Start serving on a background thread with its own event loop."""
        if self._thread is not None:
            raise RuntimeError("KimiEmulator is already running")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=run, name="kimi-emulator", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            loop.close()
            raise failure[0]
        self._loop, self._thread = loop, thread

    def stop(self) -> None:
        """Stop the background server and join its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop_async(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> KimiEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
