"""``KimiClient.account``: what account-scoped caches key on, without the key itself."""

from __future__ import annotations

from kimi_core import KimiClient


def test_account_names_the_key_by_digest_only() -> None:
    a = KimiClient("sk-secret-a", "http://127.0.0.1:9/v1")
    base_url, digest = a.account
    assert base_url == "http://127.0.0.1:9/v1"
    assert "sk-secret-a" not in repr(a.account)
    assert len(digest) == 64
    assert KimiClient("sk-secret-a", "http://127.0.0.1:9/v1").account == a.account
    assert KimiClient("sk-secret-b", "http://127.0.0.1:9/v1").account != a.account
    assert KimiClient("sk-secret-a", "http://127.0.0.1:8/v1").account != a.account
