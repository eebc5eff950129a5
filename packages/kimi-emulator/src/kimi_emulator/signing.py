"""Response signing (kimi-api.md 9): ``X-Msh-Request-Nonce`` in, ``Msh-Request-Signature`` out.

The server keeps no nonces, so a replayed (nonce, timestamp, model, signature) tuple still verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

__all__ = ["NONCE_HEADER", "Signer"]

NONCE_HEADER = "X-Msh-Request-Nonce"


class Signer:
    """Signs chat responses with a per-server secret and verifies signatures."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def _sign(self, nonce: str, timestamp: str, model: str) -> str:
        message = f"{nonce}\n{timestamp}\n{model}".encode()
        return "reqsigv1_" + hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def headers(self, nonces: list[str], model: str, now_ms: int) -> dict[str, str]:
        """Signature headers for ``nonces``; none unless exactly one non-empty nonce was sent."""
        if len(nonces) != 1 or not nonces[0].strip():
            return {}
        timestamp = str(now_ms)
        return {
            "Msh-Request-Timestamp": timestamp,
            "Msh-Request-Signature": self._sign(nonces[0], timestamp, model),
        }

    def verify(self, body: Any) -> bool:
        """``POST /v1/signatures/verify``: whether the tuple was signed by this server."""
        if not isinstance(body, dict):
            return False
        fields = [body.get(key) for key in ("nonce", "timestamp", "model", "signature")]
        if not all(isinstance(value, str | int) and str(value) for value in fields):
            return False
        nonce, timestamp, model, signature = (str(value) for value in fields)
        return hmac.compare_digest(self._sign(nonce, timestamp, model), signature)
