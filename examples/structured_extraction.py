"""Structured extraction into pydantic models, with thinking on.

Shows: `ChatKimi.with_structured_output(Schema)` (Kimi's `json_schema` response format, schema
normalised to Moonshot's dialect) and the same with LlamaIndex's `Kimi.structured_predict`.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/structured_extraction.py

Without a key it runs against an embedded kimi-emulator, which fills the schema from the words of
the message.
"""

from __future__ import annotations

from _kimi_endpoint import kimi_endpoint
from pydantic import BaseModel, Field

TEXT = 'Extract the event: 120 people expected at "Kimi meetup" in "Beijing" on "2026-12-05".'


class Event(BaseModel):
    """An event announced in the text."""

    name: str = Field(description="The event's name")
    city: str = Field(description="Where it takes place")
    date: str = Field(description="ISO date, YYYY-MM-DD")
    attendees: int = Field(description="Expected number of people")


def main() -> None:
    with kimi_endpoint():
        from langchain_kimi import ChatKimi
        from llama_index.core.prompts import PromptTemplate
        from llama_index.llms.kimi import Kimi

        event = ChatKimi(model="kimi-k2.6").with_structured_output(Event).invoke(TEXT)
        print("LangChain: ", repr(event))
        event = Kimi(model="kimi-k2.6").structured_predict(
            Event, PromptTemplate("{text}"), text=TEXT
        )
        print("LlamaIndex:", repr(event))


if __name__ == "__main__":
    main()
