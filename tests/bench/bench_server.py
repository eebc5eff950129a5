"""The server side of the benchmark: the kimi-emulator CLI in its own process.

Its CPU is not the client's: the client process measures only its own process time. The emulator
renders a stream's SSE frames from pre-encoded constant parts, so it serves well over 100k events/s
and is as cheap for every client (see ``docs/performance.md``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import TracebackType

__all__ = ["EmulatorProcess"]


class EmulatorProcess:
    """``kimi-emulator --port 0`` as a child process; ``base_url`` and ``api_key`` once started."""

    def __init__(self) -> None:
        self.base_url = ""
        self.api_key = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "kimi_emulator.cli", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if "base URL" in line:
                self.base_url = line.rsplit(" ", 1)[-1].strip()
            elif line.startswith("API key:"):
                self.api_key = line.split(":", 1)[1].strip()
            if self.base_url and self.api_key:
                break
        if not (self.base_url and self.api_key):
            self.__exit__(None, None, None)
            raise RuntimeError("kimi-emulator did not print its base URL and key")
        return self

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._proc is not None
        return self._proc.pid

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
