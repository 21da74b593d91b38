"""The project's one HTTP client: aiohttp, with a connection pool sized to the request window.

aiohttp spends a small fraction of httpx's CPU per request at a window of 64 (`bench/collector_transport.py`,
docs/benchmarks.md), so it is the only HTTP library here. The transport posts bytes and hands back a
`Reply`; it knows no protocol. What never became an answer is raised as the error tree's `Timeout` or
`ConnectionFailed`. The key travels only in the headers given here, and `redact` scrubs it from any text
(some providers echo it back in error messages).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import aiohttp

from .errors import ConnectionFailed, Timeout
from .reply import Reply

REDACTED = "[redacted]"


def redact(text: str, secret: str | None) -> str:
    """`text` with `secret` scrubbed out."""
    return text.replace(secret, REDACTED) if secret and secret in text else text


class Transport:
    """An aiohttp session; create it inside the running event loop, close it with `aclose()`."""

    def __init__(self, headers: Mapping[str, str], *, timeout_s: float = 120.0, pool: int = 64):
        self._http = aiohttp.ClientSession(
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 10.0)),
            connector=aiohttp.TCPConnector(limit=pool, limit_per_host=pool),
        )

    async def post(self, url: str, body: bytes) -> Reply:
        return await self._send("POST", url, body)

    async def get(self, url: str) -> Reply:
        return await self._send("GET", url, None)

    async def _send(self, method: str, url: str, body: bytes | None) -> Reply:
        start = time.perf_counter()
        try:
            async with self._http.request(method, url, data=body) as response:
                raw = await response.read()
                return Reply(response.status, response.headers, raw, (time.perf_counter() - start) * 1000)
        except asyncio.TimeoutError:
            raise Timeout("no answer in time") from None
        except aiohttp.ClientError as exc:
            detail = f": {exc}" if str(exc) else ""
            raise ConnectionFailed(f"connection failed: {type(exc).__name__}{detail}"[:300]) from None

    async def aclose(self) -> None:
        await self._http.close()

    async def __aenter__(self) -> Transport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def unreachable(url: str, timeout_s: float = 10.0) -> str | None:
    """Why `url` cannot be reached, or None: any HTTP answer, even 401 or 404, means reachable.

    Synchronous (for `rerun`, between runs); reads the status line only, not the body.
    """

    async def ask() -> None:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url):
            pass

    try:
        asyncio.run(ask())
    except asyncio.TimeoutError:
        return f"no answer within {timeout_s:g}s"
    except aiohttp.ClientError as exc:
        return type(exc).__name__ + (f": {exc}" if str(exc) else "")
    return None
