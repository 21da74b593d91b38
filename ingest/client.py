"""One chat-completions call against an OpenAI-compatible endpoint, and its error tree.

The transport knows nothing about arms or problems: it sends a payload and returns a `Completion`, or
raises an `APIError` subclass that says whether trying again can help.

    APIError
     ├── RetryableError          (worth another attempt)
     │    ├── RateLimited        429, carries retry_after
     │    ├── ServerError        5xx, 408
     │    ├── TimeoutError_      no answer in time
     │    ├── ConnectionFailed   refused, reset
     │    └── MalformedBody      a 200 whose body is not JSON
     └── FatalError              400, 401, 402, 403, 404, errors inside a 200
"""
from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


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


class TimeoutError_(RetryableError):
    error_class = "timeout"


class ConnectionFailed(RetryableError):
    error_class = "connection"


class MalformedBody(RetryableError):
    error_class = "malformed_body"


class FatalError(APIError):
    error_class = "client_error"


class ProviderError(FatalError):
    """An error the provider reported inside a 200 body."""

    error_class = "provider_error"


@dataclass(frozen=True)
class Completion:
    text: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    provider_model: str | None
    latency_ms: float


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: an integer of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or fallback)[:500]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])[:500]
    return fallback[:500]


def payload(model: str, messages: list[dict[str, str]], *, seed: int, temperature: float, max_tokens: int) -> dict[str, Any]:
    """The request body. Pure, so it is tested by equality."""
    return {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "seed": seed,
    }


class ChatClient:
    """Async chat-completions client with a connection pool sized to the request window."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout_s: float = 120.0, pool: int = 64):
        headers = {"Content-Type": "application/json", "X-Title": "evalhouse"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def complete(self, body: dict[str, Any]) -> Completion:
        start = time.perf_counter()
        try:
            response = await self._http.post(self.url, json=body)
        except httpx.TimeoutException as exc:
            raise TimeoutError_(f"timed out: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"connection failed: {type(exc).__name__}") from None
        latency = (time.perf_counter() - start) * 1000
        return self._parse(response, latency)

    @staticmethod
    def _parse(response: httpx.Response, latency_ms: float) -> Completion:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status != 200:
            message = _error_message(body, f"HTTP {status}")
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if status == 429:
                raise RateLimited(message, status, retry_after)
            if status >= 500 or status == 408:
                raise ServerError(message, status, retry_after)
            raise FatalError(message, status, retry_after)
        if not isinstance(body, dict):
            raise MalformedBody("response body is not a JSON object", status)
        if "error" in body and not body.get("choices"):
            raise ProviderError(_error_message(body, "error inside a 200 body"), status)
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices:
            raise MalformedBody("response has no choices", status)
        choice = choices[0] if isinstance(choices[0], dict) else {}
        if choice.get("finish_reason") == "error" or "error" in choice:
            raise ProviderError(_error_message(choice, "choice finished with error"), status)
        message = choice.get("message") or {}
        usage = body.get("usage") or {}
        return Completion(
            text=message.get("content"),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            cost=usage.get("cost"),
            provider_model=body.get("model"),
            latency_ms=latency_ms,
        )


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))
