"""The openai SDK (most of a cold import) is loaded at the first request, not at import."""

from __future__ import annotations

import subprocess
import sys

from kimi_emulator import KimiEmulator

_CHECK = "import sys; print('openai' in sys.modules)"


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


def test_import_and_construction_do_not_load_the_openai_sdk() -> None:
    code = (
        "from llama_index.llms.kimi import Kimi\n"
        "Kimi(api_key='sk-test', base_url='http://127.0.0.1:9/v1', endpoint='moonshot')\n" + _CHECK
    )
    assert _run(code) == "False"


def test_the_first_request_loads_it(kimi_emulator: KimiEmulator) -> None:
    # The check above can see the SDK: after one call it is there.
    code = (
        "from llama_index.llms.kimi import Kimi\n"
        f"Kimi(api_key={kimi_emulator.api_key!r}, base_url={kimi_emulator.base_url!r})"
        ".complete('hi')\n" + _CHECK
    )
    assert _run(code) == "True"
    assert kimi_emulator.chat_requests[-1]["messages"] == [{"role": "user", "content": "hi"}]
