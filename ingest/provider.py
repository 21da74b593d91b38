"""The seam between the collector and an API's wire format: the `Provider` protocol.

As inspect_ai's `ModelAPI` and lm-eval's `TemplateAPI`: a provider only builds a request, reads an
answer and classifies an error; the request window, pacing, retries, cost cap and journal never look
inside a body. They see a `Completion` (`reply.py`: what came back, in the collector's terms) or an
`APIError` (`errors.py`: retryable or not, with its Retry-After). One provider is one module in `providers/` plus
an entry in `providers.PROVIDERS`; `RunConfig.api` picks it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .endpoint import Endpoint
from .errors import APIError
from .reply import Completion, Reply


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
