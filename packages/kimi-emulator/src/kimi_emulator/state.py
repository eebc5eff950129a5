"""Mutable server state shared by the routes and the test-facing API: log, script queue, caches."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from kimi_emulator.batch_store import BatchStore
from kimi_emulator.config import EmulatorConfig
from kimi_emulator.faults import FaultRules
from kimi_emulator.files import FileStore
from kimi_emulator.script import Fault, Reply
from kimi_emulator.signing import Signer
from kimi_emulator.tokens import count_messages

__all__ = ["EmulatorState", "RecordedRequest", "ScriptItem"]

ScriptItem = Reply | Fault


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (the bearer token is redacted)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str]


class EmulatorState:
    """Everything that changes while serving; one lock guards cross-thread access."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.files = FileStore()
        self.batches = BatchStore()
        self.faults = FaultRules()
        self.signer = Signer()
        self._lock = threading.Lock()
        self._log: deque[RecordedRequest] = deque(maxlen=config.request_log_size)
        self._script: list[tuple[ScriptItem, str | None]] = []
        self._searches: dict[str, str] = {}
        self._seen_prefixes: set[bytes] = set()

    # ---- request log ---------------------------------------------------------------------------
    def record(self, entry: RecordedRequest) -> None:
        """Append to the request log (the oldest entry goes once it holds ``request_log_size``)."""
        with self._lock:
            self._log.append(entry)

    def log(self) -> list[RecordedRequest]:
        """A copy of the request log."""
        with self._lock:
            return list(self._log)

    # ---- script queue --------------------------------------------------------------------------
    def enqueue(self, item: ScriptItem, when: str | None) -> None:
        """Queue a scripted reply or fault, optionally matched on the last message text."""
        with self._lock:
            self._script.append((item, when))

    def take(self, last_text: str, *, faults: bool) -> ScriptItem | None:
        """Pop the script item for a request whose last message text is ``last_text``.

        Matched items (``when`` a substring of the text) win over unmatched ones, which are used in
        order. With ``faults`` only a fault at that position is taken; otherwise only a reply.
        """
        with self._lock:
            index = next(
                (i for i, (_, when) in enumerate(self._script) if when and when in last_text),
                None,
            )
            if index is None:
                index = next((i for i, (_, when) in enumerate(self._script) if when is None), None)
            if index is None or isinstance(self._script[index][0], Fault) != faults:
                return None
            return self._script.pop(index)[0]

    # ---- $web_search registry --------------------------------------------------------------------
    def remember_search(self, search_id: str, query: str) -> None:
        """Keep the query behind a search id so the echo round can answer it."""
        with self._lock:
            self._searches[search_id] = query

    def search_query(self, search_id: str) -> str | None:
        """The query a search id was issued for, if this server issued it."""
        with self._lock:
            return self._searches.get(search_id)

    # ---- prompt cache ----------------------------------------------------------------------------
    def cached_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Tokens of the longest message prefix seen before (automatic caching, section 9)."""
        digest = hashlib.sha1(usedforsecurity=False)
        hashes: list[bytes] = []
        for message in messages:
            digest.update(json.dumps(message, sort_keys=True).encode())
            hashes.append(digest.copy().digest())
        with self._lock:
            hit = max((i + 1 for i, h in enumerate(hashes) if h in self._seen_prefixes), default=0)
            self._seen_prefixes.update(hashes)
        return count_messages(messages[:hit]) if hit else 0

    def reset(self) -> None:
        """Clear script queue, fault rules, request log, files, batches, searches, prompt cache."""
        with self._lock:
            self._log.clear()
            self._script.clear()
            self._searches.clear()
            self._seen_prefixes.clear()
        self.faults.clear()
        self.files.clear()
        self.batches.clear()
