"""What an endpoint says about itself before any completion is asked: its models, their prices, the key.

The facts (`Endpoint`, `Price`, `KeyInfo`) are the pre-flight's and the cost cap's, whatever the wire
format; the provider's `describe` asks for them (for OpenAI-compatible servers: `GET /models`, and
OpenRouter's `GET /key`). What an endpoint cannot tell is a note, not a failure. Nothing here sends a
completion request, and the key only travels in the headers: text that echoes it is scrubbed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ConnectionFailed, Timeout
from .provider import Provider
from .transport import Transport, redact

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


async def probe(provider: Provider, base_url: str, api_key: str | None, timeout_s: float = 30.0) -> Endpoint:
    """Ask the endpoint about itself through `provider`; never a completion. The key is scrubbed from the result."""
    transport = Transport(provider.headers(api_key), timeout_s=timeout_s, pool=2)
    try:
        endpoint = await provider.describe(base_url, transport.get)
    except (Timeout, ConnectionFailed) as exc:
        endpoint = Endpoint(base_url, unreachable=str(exc))
    finally:
        await transport.aclose()
    return dataclasses.replace(
        endpoint,
        key_rejected=endpoint.key_rejected and redact(endpoint.key_rejected, api_key)[:300],
        unreachable=endpoint.unreachable and redact(endpoint.unreachable, api_key),
        notes=[redact(note, api_key) for note in endpoint.notes],
    )


def probe_now(provider: Provider, base_url: str, api_key: str | None, timeout_s: float = 30.0) -> Endpoint:
    """`probe`, for callers outside an event loop (`ingest plan`)."""
    return asyncio.run(probe(provider, base_url, api_key, timeout_s))
