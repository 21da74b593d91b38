"""What comes back from an endpoint: the `Reply` as the transport got it, and the `Completion` a provider
reads from it (`provider.py`). Plain data, importing nothing of the collector, so the transport, the error
tree and the providers all name it without naming each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """One HTTP answer as the transport got it, before any reading."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Completion:
    """An answer, in the collector's terms (the columns of a stored row)."""

    text: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None  # USD, when the provider reports it
    provider_model: str | None  # the model that answered (may differ from the one asked)
    latency_ms: float
    reasoning: str | None = None
    reasoning_tokens: int | None = None
    native_finish_reason: str | None = None
    generation_id: str | None = None
    provider: str | None = None  # the upstream provider that served it (OpenRouter)
