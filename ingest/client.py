"""One request: a body posted through the transport, its reply read by the provider, the key scrubbed.

This is the whole of what the request window calls (`complete`); it returns a `Completion` or raises an
`APIError` from the error tree, whose message never holds the key (providers sometimes echo it).
"""

from __future__ import annotations

from .errors import APIError
from .provider import Completion, Provider
from .transport import Transport, redact


class ChatClient:
    """A provider over a pooled transport; create it inside the running event loop, close it with `aclose()`."""

    def __init__(self, provider: Provider, base_url: str, api_key: str | None, *, timeout_s: float = 120.0, pool=64):
        self.provider, self.url, self._key = provider, provider.completions_url(base_url), api_key
        self._transport = Transport(provider.headers(api_key), timeout_s=timeout_s, pool=pool)

    async def complete(self, body: bytes) -> Completion:
        """POST one encoded request body."""
        try:
            return self.provider.parse_answer(await self._transport.post(self.url, body))
        except APIError as exc:
            exc.args = (redact(str(exc), self._key)[:500],)
            raise

    async def aclose(self) -> None:
        await self._transport.aclose()
