"""Shared by the examples: use the real Kimi API when a key is set, else an embedded emulator.

`ChatKimi`, `Kimi` and `kimi-core` read `MOONSHOT_API_KEY` / `MOONSHOT_BASE_URL` from the
environment, so the examples' own code is exactly what runs against the real API; only this helper
knows about the emulator.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from kimi_emulator import KimiEmulator

REAL_API = "https://api.moonshot.ai/v1"


@contextlib.contextmanager
def kimi_endpoint(say: Callable[[str], object] = print) -> Iterator[str]:
    """Yield the base URL in use, after saying on the first output line which endpoint it is."""
    env = os.environ.get
    if env("MOONSHOT_API_KEY") or env("KIMI_API_KEY"):
        base_url = env("MOONSHOT_BASE_URL") or env("KIMI_BASE_URL") or REAL_API
        say(f"Using the Kimi API at {base_url} (API key from the environment).")
        yield base_url
        return
    with KimiEmulator() as emulator:
        say(
            "MOONSHOT_API_KEY is not set: using the embedded kimi-emulator at "
            f"{emulator.base_url} (offline, rule-based answers)."
        )
        names = ("MOONSHOT_API_KEY", "MOONSHOT_BASE_URL", "MOONSHOT_ENDPOINT")
        saved = {name: os.environ.get(name) for name in names}
        os.environ["MOONSHOT_API_KEY"] = emulator.api_key
        os.environ["MOONSHOT_BASE_URL"] = emulator.base_url
        # The emulator speaks the platform's dialect: say so, as for any non-Moonshot host.
        os.environ["MOONSHOT_ENDPOINT"] = "moonshot"
        try:
            yield emulator.base_url
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
