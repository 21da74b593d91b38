"""The seam between the collector and an API's wire format: the `Provider` protocol.

As inspect_ai's `ModelAPI` and lm-eval's `TemplateAPI`: a provider only builds a request, reads an
answer and classifies an error; the request window, pacing, retries, cost cap and journal never look
inside a body. They see a `Completion` (what came back, in the collector's terms) or an `APIError`
(`errors.py`: retryable or not, with its Retry-After). One provider is one module in `providers/` plus
an entry in `providers.PROVIDERS`; `RunConfig.api` picks it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .endpoint import Endpoint
    from .errors import APIError


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


class Provider(Protocol):
    """One wire protocol. Everything but `describe` is pure: no I/O, tested by equality."""

    name: str

    def completions_url(self, base_url: str) -> str:
        """Where a request is posted."""
        ...

    def headers(self, api_key: str | None) -> dict[str, str]:
        """Headers of every request (the key travels only here)."""
        ...

    def build_request(
        self, model: str, messages: list[dict[str, str]], *, seed: int, temperature: float, max_tokens: int
    ) -> dict[str, Any]:
        """The request body, as a dict (the collector sends it as JSON)."""
        ...

    def parse_answer(self, reply: Reply) -> Completion:
        """The completion in `reply`, or raise the `APIError` that says why there is none."""
        ...

    def classify_error(self, reply: Reply) -> APIError:
        """The error a non-success `reply` stands for: its class, whether to retry, its Retry-After."""
        ...

    async def describe(self, base_url: str, get: Callable[[str], Awaitable[Reply]]) -> Endpoint:
        """What the endpoint says about itself (models, prices, the key's credit), asked with `get(url)`."""
        ...
