"""What an endpoint says about itself before any completion is asked: its models, their prices, the key.

The facts (`Endpoint`, `Price`, `KeyInfo`) are the pre-flight's and the cost cap's, whatever the wire
format; the provider's `describe` asks for them (for OpenAI-compatible servers: `GET /models`, and
OpenRouter's `GET /key`) when `client.probe` calls it. What an endpoint cannot tell is a note, not a
failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

# OpenRouter's model variants: a suffix that routes the same model differently, priced as the base id
# (`:free` ids are listed on their own and are not variants).
VARIANTS = (":nitro", ":floor", ":online", ":exacto")


@dataclass(frozen=True)
class Price:
    """USD per token, as OpenRouter's `pricing` gives it; `request` is a fixed fee per request."""

    prompt: float
    completion: float
    request: float = 0.0

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return prompt_tokens * self.prompt + completion_tokens * self.completion + self.request

    def per_million(self) -> str:
        return f"{self.prompt * 1e6:.3g}/{self.completion * 1e6:.3g}"


@dataclass(frozen=True)
class KeyInfo:
    """OpenRouter's `GET /key` data, without its `label` (a masked copy of the key, never kept)."""

    limit: float | None
    usage: float | None
    limit_remaining: float | None
    is_free_tier: bool


@dataclass
class Endpoint:
    """What the endpoint told about itself; None where it has no route for it."""

    base_url: str
    models: dict[str, Price | None] | None = None  # id -> price (None: listed without a price)
    key: KeyInfo | None = None
    key_rejected: str | None = None  # why the key was refused (401/403), key scrubbed
    unreachable: str | None = None
    notes: list[str] = field(default_factory=list)

    def knows(self, model: str) -> bool:
        return self.models is None or _listed(model, self.models) is not None

    def price(self, model: str) -> Price | None:
        if self.models is None:
            return None
        listed = _listed(model, self.models)
        return self.models[listed] if listed is not None else None


def _listed(model: str, models: dict[str, Any]) -> str | None:
    if model in models:
        return model
    base = next((model.removesuffix(v) for v in VARIANTS if model.endswith(v)), None)
    return base if base in models else None


def number(value: Any) -> float | None:
    """A price or credit figure: OpenRouter writes prices as decimal strings ("0.0000008")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
