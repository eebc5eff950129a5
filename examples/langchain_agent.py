"""A LangChain `create_agent` with two tools and thinking on, over several steps.

Shows: Kimi (kimi-k2.6, thinking on by default) planning with tools across steps; each step's
reasoning stays on its `AIMessage` and goes back to Kimi as `reasoning_content`, which Kimi
requires on tool-call turns while thinking.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/langchain_agent.py

Without a key it runs against an embedded kimi-emulator (offline).
"""

from __future__ import annotations

from _kimi_endpoint import kimi_endpoint

INVENTORY = {"apples": 12, "pears": 4}
PRICES = {"apples": 0.5, "pears": 0.8}


def stock(item: str) -> int:
    """How many units of an item are in stock."""
    return INVENTORY.get(item.lower(), 0)


def price(item: str) -> float:
    """The unit price of an item in euros."""
    return PRICES.get(item.lower(), 0.0)


def main() -> None:
    with kimi_endpoint():
        from langchain.agents import create_agent
        from langchain_core.messages import HumanMessage
        from langchain_kimi import ChatKimi

        agent = create_agent(
            ChatKimi(model="kimi-k2.6", max_tokens=16000),
            tools=[stock, price],
            system_prompt="Use the tools; never guess numbers.",
        )
        result = agent.invoke(
            {"messages": [HumanMessage('Check the stock of "apples" and the price of "apples".')]}
        )
        for message in result["messages"]:
            reasoning = message.additional_kwargs.get("reasoning_content")
            if reasoning:
                print(f"[{message.type} thinking] {reasoning}")
            for call in getattr(message, "tool_calls", []):
                print(f"[tool call] {call['name']}({call['args']})")
            if message.text:
                print(f"[{message.type}] {message.text}")


if __name__ == "__main__":
    main()
