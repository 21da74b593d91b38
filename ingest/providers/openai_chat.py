"""OpenAI-compatible chat completions: OpenRouter, vLLM, Ollama, LM Studio, OpenAI itself.

`POST {base}/chat/completions` with `model`, `messages`, `temperature` (always sent: Ollama forces 1.0
when it is left out), `max_tokens`, `seed`, and OpenRouter's `provider` routing object when one is set
(`require_parameters`, `allow_fallbacks`, `order`). What real providers send back, and how it is read
(see /work/shared/reference/provider-notes.md):

- errors arrive as `{"error": {"code", "message", "metadata"}}` (vLLM's older versions: flat) with their
  status, and also inside a 200: a body with `error` and no `choices`, or a choice that finished with
  `error`. 429, 5xx and 408 are retried (Retry-After honoured); 402 only when it carries a Retry-After;
  401 and a bare 402 stop the run; other 4xx are the request's own fault;
- `usage` has token counts, and on OpenRouter `cost` (USD) and `completion_tokens_details.reasoning_tokens`;
  `model` may differ from the one asked (dated snapshots, fallbacks);
- content may be a string, a list of parts, empty (retried: seen after cold starts) or absent when a
  reasoning model spent every token thinking (`finish_reason: length`, text in `message.reasoning`).

The pre-flight (`describe`) asks `GET {base}/models` (ids; OpenRouter adds `pricing` per token as decimal
strings) and OpenRouter's `GET {base}/key` (credit limit, usage, `limit_remaining`); plain servers
have no `/key` route, which becomes a note.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..endpoint import Endpoint, KeyInfo, Price, number
from ..errors import (
    APIError,
    EmptyAnswer,
    FatalError,
    MalformedBody,
    ProviderError,
    RateLimited,
    RunStopper,
    ServerError,
)
from ..reply import Completion, Reply


@dataclass(frozen=True)
class OpenAIChat:
    """The OpenAI chat-completions protocol; `routing` is OpenRouter's `provider` object (None: not sent)."""

    routing: dict[str, Any] | None = None
    name: ClassVar[str] = "openai-chat"

    @classmethod
    def from_config(cls, config) -> OpenAIChat:
        routing = {
            "require_parameters": config.require_parameters,
            "allow_fallbacks": config.allow_fallbacks,
            "order": config.provider_order,
        }
        return cls({k: v for k, v in routing.items() if v is not None} or None)

    # -- the request ----------------------------------------------------------------------
    def completions_url(self, base_url: str) -> str:
        return base_url.rstrip("/") + "/chat/completions"

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "X-Title": "evalhouse"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    def build_request(
        self, model: str, messages: list[dict[str, str]], *, seed: int, temperature: float, max_tokens: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": seed,
        }
        if self.routing:
            body["provider"] = self.routing
        return body

    # -- the answer -----------------------------------------------------------------------
    def parse_answer(self, reply: Reply) -> Completion:
        if reply.status != 200:
            raise self.classify_error(reply)
        body = _json(reply.body)
        if not isinstance(body, dict):
            snippet = reply.body[:60].decode("utf-8", "replace")
            raise MalformedBody(f"response body is not a JSON object: {snippet!r}", reply.status)
        choices = body.get("choices")
        if "error" in body and not choices:
            raise self.classify_error(reply)
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedBody("response has no choices", reply.status)
        choice = choices[0]
        if choice.get("finish_reason") == "error" or choice.get("error"):
            raise ProviderError(f"choice finished with an error: {_message(choice, 'no message')}", reply.status)
        message = _dict(choice.get("message"))
        usage = _dict(body.get("usage"))
        completion = Completion(
            text=_text(message.get("content")),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            cost=usage.get("cost"),
            provider_model=body.get("model"),
            latency_ms=reply.latency_ms,
            reasoning=_text(message.get("reasoning")) or None,
            reasoning_tokens=_dict(usage.get("completion_tokens_details")).get("reasoning_tokens"),
            native_finish_reason=choice.get("native_finish_reason"),
            generation_id=body.get("id"),
            provider=body.get("provider"),
        )
        if not completion.text and completion.finish_reason in ("stop", None) and not message.get("tool_calls"):
            raise EmptyAnswer(completion)
        return completion

    # -- errors ---------------------------------------------------------------------------
    def classify_error(self, reply: Reply) -> APIError:
        body = _json(reply.body)
        if reply.status == 200:  # an error inside a 200: its own code says whether it is the request's fault
            code = _error_code(body)
            cls = FatalError if code is not None and 400 <= code < 500 and code not in (408, 429) else ProviderError
            return cls(f"error inside a 200: {_message(body, 'no message')}", code or reply.status)
        status, message = reply.status, _message(body, f"HTTP {reply.status}")
        retry_after = parse_retry_after(reply.headers.get("Retry-After"))
        if status == 429 or (status == 402 and retry_after is not None):
            return RateLimited(message, status, retry_after)
        if status >= 500 or status == 408:
            return ServerError(message, status, retry_after)
        if status in (401, 402):
            return RunStopper(message, status)
        return FatalError(message, status)

    # -- the pre-flight -------------------------------------------------------------------
    async def describe(self, base_url: str, get: Callable[[str], Awaitable[Reply]]) -> Endpoint:
        endpoint = Endpoint(base_url)
        base = base_url.rstrip("/")
        for route in ("models", "key"):
            reply = await get(f"{base}/{route}")
            body = _json(reply.body)
            if reply.status in (401, 403):
                endpoint.key_rejected = f"HTTP {reply.status}: {_message(body, f'HTTP {reply.status}')}"
                return endpoint
            if reply.status == 404:
                endpoint.notes.append(_missing(route, base))
            elif reply.status != 200:
                endpoint.notes.append(
                    f"GET {base}/{route} answered HTTP {reply.status}: "
                    f"{'model ids and prices' if route == 'models' else 'key and credit'} not checked"
                )
            elif route == "models":
                endpoint.models = parse_models(body)
            else:
                endpoint.key = parse_key(body)
        return endpoint


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


def parse_models(body: Any) -> dict[str, Price | None]:
    """`{"data": [{"id", "pricing": {"prompt", "completion", "request", ...}}]}` -> id -> Price."""
    entries = body.get("data") if isinstance(body, dict) else None
    models: dict[str, Price | None] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        pricing = _dict(entry.get("pricing"))
        prompt, completion = number(pricing.get("prompt")), number(pricing.get("completion"))
        # OpenRouter marks a router whose price is decided per request (openrouter/auto) with -1.
        priced = prompt is not None and completion is not None and prompt >= 0 and completion >= 0
        models[entry["id"]] = Price(prompt, completion, number(pricing.get("request")) or 0.0) if priced else None
    return models


def parse_key(body: Any) -> KeyInfo:
    """OpenRouter's `GET /key` data; its `label` (a masked copy of the key) is never read."""
    data = _dict(body.get("data")) if isinstance(body, dict) else {}
    return KeyInfo(
        limit=number(data.get("limit")),
        usage=number(data.get("usage")),
        limit_remaining=number(data.get("limit_remaining")),
        is_free_tier=bool(data.get("is_free_tier")),
    )


def _missing(route: str, base: str) -> str:
    if route == "models":
        return f"{base} has no /models route: model ids not checked, no prices"
    return f"{base} has no /key route (not OpenRouter): key and credit not checked before the first request"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(body: Any, fallback: str) -> str:
    """The error's message (with OpenRouter's `metadata.raw` when given), as storable text."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or fallback)
        raw = _dict(error.get("metadata")).get("raw")
        return _text(f"{message} ({str(raw)[:200]})" if raw else message)
    return _text(str(error)) if error is not None else fallback


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
