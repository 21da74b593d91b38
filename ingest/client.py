"""One chat-completions call against an OpenAI-compatible endpoint, and its error tree.

The transport knows nothing about arms or problems: it posts a payload and returns a `Completion`, or
raises an `APIError` subclass that says whether trying again can help and whether the whole run must stop.

    APIError
     ├── RetryableError          worth another attempt
     │    ├── RateLimited        429 (Retry-After honoured), 402 sent with a Retry-After
     │    ├── ServerError        5xx, 408
     │    ├── Timeout            no answer in time
     │    ├── ConnectionFailed   refused, reset, body cut off
     │    ├── MalformedBody      a 200 whose body is not JSON or holds no choices
     │    ├── ProviderError      an error inside a 200 (body `error`, or a choice finished with `error`)
     │    └── EmptyAnswer        a 200 whose content is empty although the model stopped normally
     └── FatalError              400, 403, 404, 422 … (also inside a 200): the same request would fail again
          └── RunStopper         401 (key rejected), 402 (no credit): no request of this run can succeed

The transport is aiohttp: at a window of 64 it spends a small fraction of the CPU per request that
httpx's pool does (see docs/benchmarks.md). The key is sent in a header and scrubbed from every message
an error carries, since some providers echo it back.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

REDACTED = "[redacted]"


class APIError(Exception):
    error_class = "api_error"

    def __init__(self, message: str, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


class RetryableError(APIError):
    pass


class RateLimited(RetryableError):
    error_class = "rate_limited"


class ServerError(RetryableError):
    error_class = "server_error"


class Timeout(RetryableError):
    error_class = "timeout"


class ConnectionFailed(RetryableError):
    error_class = "connection"


class MalformedBody(RetryableError):
    error_class = "malformed_body"


class ProviderError(RetryableError):
    """An error the provider reported inside a 200 body."""

    error_class = "provider_error"


class EmptyAnswer(RetryableError):
    """Empty content with a normal stop: seen after cold starts, so asked again; kept if it persists."""

    error_class = "empty_content"

    def __init__(self, completion: Completion):
        super().__init__("empty content with a normal stop", 200)
        self.completion = completion


class FatalError(APIError):
    error_class = "client_error"


class RunStopper(FatalError):
    """The key is rejected or the credit is gone: every other request would fail the same way."""

    error_class = "refused"


@dataclass(frozen=True)
class Completion:
    text: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    provider_model: str | None
    latency_ms: float
    reasoning: str | None = None
    reasoning_tokens: int | None = None
    native_finish_reason: str | None = None
    generation_id: str | None = None
    provider: str | None = None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def payload(
    model: str,
    messages: list[dict[str, str]],
    *,
    seed: int,
    temperature: float,
    max_tokens: int,
    provider: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The request body. Pure, so it is tested by equality. `provider` is OpenRouter's routing object."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "seed": seed,
    }
    if provider:
        body["provider"] = provider
    return body


def _error_message(body: Any, fallback: str) -> str:
    return _text(_raw_error_message(body, fallback))


def _raw_error_message(body: Any, fallback: str) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or fallback)
        raw = (error.get("metadata") or {}).get("raw") if isinstance(error.get("metadata"), dict) else None
        return f"{message} ({str(raw)[:200]})" if raw else message
    if error is not None:
        return str(error)
    return fallback


def _error_code(body: Any) -> int | None:
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def _text(content: Any) -> str | None:
    """Message content as text: a string, or the text parts of a list of parts.

    A lone surrogate (a JSON escape like \\ud800 that pairs with nothing) cannot be stored as UTF-8;
    it becomes "?" here rather than failing the shard that holds it.
    """
    if content is None:
        return None
    if isinstance(content, list):
        content = "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    elif not isinstance(content, str):
        content = str(content)
    return content.encode("utf-8", "replace").decode("utf-8")


def parse_response(status: int, headers: Any, raw: bytes, latency_ms: float) -> Completion:
    """Turn one HTTP answer into a `Completion`, or raise the error that describes it."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if status != 200:
        message = _error_message(body, f"HTTP {status}")
        retry_after = parse_retry_after(headers.get("Retry-After"))
        if status == 429:
            raise RateLimited(message, status, retry_after)
        if status == 402 and retry_after is not None:
            raise RateLimited(message, status, retry_after)
        if status >= 500 or status == 408:
            raise ServerError(message, status, retry_after)
        if status in (401, 402):
            raise RunStopper(message, status)
        raise FatalError(message, status)
    if not isinstance(body, dict):
        snippet = raw[:60].decode("utf-8", "replace")
        raise MalformedBody(f"response body is not a JSON object: {snippet!r}", status)
    choices = body.get("choices")
    if "error" in body and not choices:
        code = _error_code(body)
        cls = FatalError if code is not None and 400 <= code < 500 and code not in (408, 429) else ProviderError
        raise cls(f"error inside a 200: {_error_message(body, 'no message')}", code or status)
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedBody("response has no choices", status)
    choice = choices[0]
    if choice.get("finish_reason") == "error" or choice.get("error"):
        raise ProviderError(f"choice finished with an error: {_error_message(choice, 'no message')}", status)
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    details = usage.get("completion_tokens_details") if isinstance(usage.get("completion_tokens_details"), dict) else {}
    completion = Completion(
        text=_text(message.get("content")),
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        cost=usage.get("cost"),
        provider_model=body.get("model"),
        latency_ms=latency_ms,
        reasoning=_text(message.get("reasoning")) or None,
        reasoning_tokens=details.get("reasoning_tokens"),
        native_finish_reason=choice.get("native_finish_reason"),
        generation_id=body.get("id"),
        provider=body.get("provider"),
    )
    if not completion.text and completion.finish_reason in ("stop", None) and not message.get("tool_calls"):
        raise EmptyAnswer(completion)
    return completion


class ChatClient:
    """Async chat-completions client with a connection pool sized to the request window.

    Create it inside the running event loop; close it with `aclose()`.
    """

    def __init__(self, base_url: str, api_key: str | None, *, timeout_s: float = 120.0, pool: int = 64):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._key = api_key
        headers = {"Content-Type": "application/json", "X-Title": "evalhouse"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 10.0)),
            connector=aiohttp.TCPConnector(limit=pool, limit_per_host=pool),
            json_serialize=json.dumps,
        )

    async def aclose(self) -> None:
        await self._http.close()

    def redact(self, text: str) -> str:
        """The text with the key scrubbed out (providers sometimes echo it in error messages)."""
        return text.replace(self._key, REDACTED) if self._key and self._key in text else text

    async def complete(self, body: bytes) -> Completion:
        """POST one JSON-encoded request body."""
        start = time.perf_counter()
        try:
            async with self._http.post(self.url, data=body) as response:
                raw = await response.read()
                status, headers = response.status, response.headers
        except asyncio.TimeoutError:
            raise Timeout("no answer in time") from None
        except aiohttp.ClientError as exc:
            raise ConnectionFailed(self.redact(f"connection failed: {type(exc).__name__}: {exc}")[:300]) from None
        latency = (time.perf_counter() - start) * 1000
        try:
            return parse_response(status, headers, raw, latency)
        except APIError as exc:
            exc.args = (self.redact(str(exc))[:500],)
            raise
