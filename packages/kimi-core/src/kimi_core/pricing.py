"""List prices per model (USD per 1M tokens, platform.kimi.ai) and cost estimates from usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from kimi_core.response import Usage

__all__ = ["BATCH_PRICE_FACTOR", "PRICES", "Price", "estimate_cost"]

BATCH_PRICE_FACTOR = 0.6
"""Batch requests cost 60 % of the standard price (platform.kimi.ai/docs/pricing/batch, 13.5)."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1M tokens on the international platform (mainland prices are in CNY and differ).

    Attributes:
        cache_hit: Prompt tokens served from the context cache.
        input: Other prompt tokens.
        output: Completion tokens (reasoning included).
    """

    cache_hit: float
    input: float
    output: float


# kimi-api.md 1.2 (/docs/pricing/chat*) and 13.3; models without a published price are absent.
PRICES: Mapping[str, Price] = MappingProxyType(
    {
        "kimi-k2.6": Price(0.16, 0.95, 4.00),
        "kimi-k2.5": Price(0.10, 0.60, 3.00),
        "kimi-k2-0905-preview": Price(0.15, 0.60, 2.50),
        "kimi-k3": Price(0.30, 3.00, 15.00),
    }
)


def estimate_cost(usage: Usage | None, model: str | None, *, batch: bool = False) -> float | None:
    """The list-price cost in USD of one call's usage, or None when the model has no known price.

    An estimate: it uses the international list price, and applies the batch factor to every token
    class (the batch price page gives one discount, not one per class).

    Args:
        usage: The call's token usage.
        model: The model that answered.
        batch: Apply :data:`BATCH_PRICE_FACTOR`.

    Returns:
        USD, or None.
    """
    price = PRICES.get(model or "")
    if usage is None or price is None:
        return None
    cached = min(usage.cached_tokens, usage.input_tokens)
    cost = (
        cached * price.cache_hit
        + (usage.input_tokens - cached) * price.input
        + usage.output_tokens * price.output
    ) / 1_000_000
    return cost * BATCH_PRICE_FACTOR if batch else cost
