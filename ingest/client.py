"""Talking to an endpoint through a provider over the transport, the key scrubbed from all that comes back.

`ChatClient.complete` is the whole of what the request window calls: one body posted, its reply read by
the provider; it returns a `Completion` or raises an `APIError` from the error tree, whose message never
holds the key (providers sometimes echo it). `probe` asks the endpoint about itself (models, prices, the
key's credit) before any completion; the key only travels in the headers.
"""

from __future__ import annotations

import asyncio
import dataclasses

from .endpoint import Endpoint
from .errors import APIError, ConnectionFailed, Timeout
from .provider import Provider
from .reply import Completion
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
