"""Main job: one streamed thinking request to kimi-k2.6 through the plain openai SDK.

With MOONSHOT_API_KEY set it talks to https://api.moonshot.ai/v1; without it, it starts the
offline kimi-emulator and says so on its first output line.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from kimi_emulator import KimiEmulator
from openai import OpenAI

MODEL = "kimi-k2.6"
QUESTION = "What is 17*19? Think it through, then answer with the number."


@contextlib.contextmanager
def endpoint() -> Iterator[tuple[str, str]]:
    """(base_url, api_key): the real API when a key is set, else a local emulator."""
    key = os.environ.get("MOONSHOT_API_KEY")
    if key:
        print(
            "Using the real Moonshot API at https://api.moonshot.ai/v1 (MOONSHOT_API_KEY is set)."
        )
        yield "https://api.moonshot.ai/v1", key
        return
    with KimiEmulator() as emulator:
        print(
            f"MOONSHOT_API_KEY is not set: using the offline kimi-emulator at {emulator.base_url}"
        )
        yield emulator.base_url, emulator.api_key


def main() -> int:
    with endpoint() as (base_url, api_key), OpenAI(base_url=base_url, api_key=api_key) as client:
        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"thinking": {"type": "enabled"}},
        )
        section = None
        usage = None
        for chunk in stream:
            usage = chunk.usage or usage
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            # reasoning_content is a Kimi extension, so the SDK keeps it as an extra attribute.
            reasoning = getattr(delta, "reasoning_content", None)
            for name, text in (("Reasoning", reasoning), ("Answer", delta.content)):
                if text:
                    if section != name:
                        print(f"\n--- {name} ---", flush=True)
                        section = name
                    print(text, end="", flush=True)
        print()
        if usage is not None:
            tokens = f"prompt {usage.prompt_tokens}, completion {usage.completion_tokens}"
            print(f"\n(tokens: {tokens})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
