"""What an endpoint says about itself before any completion is asked: its models, their prices, the key.

OpenRouter answers `GET /models` with every model id and its `pricing` (USD per token, as decimal
strings) and `GET /key` with the key's credit limit, usage and `limit_remaining`. Plain OpenAI-compatible
servers (vLLM, Ollama, LM Studio) list model ids on `GET /models` and have no `/key` route: what they
cannot tell is reported as a note, not a failure. Nothing here sends a completion request, and the key
only ever travels in the Authorization header: messages that echo it are scrubbed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from .client import REDACTED

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


def _number(value: Any) -> float | None:
    """A price or credit figure: OpenRouter writes prices as decimal strings ("0.0000008")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def parse_models(body: Any) -> dict[str, Price | None]:
    """`{"data": [{"id", "pricing": {"prompt", "completion", "request", ...}}]}` -> id -> Price."""
    entries = body.get("data") if isinstance(body, dict) else None
    models: dict[str, Price | None] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        pricing = entry.get("pricing") if isinstance(entry.get("pricing"), dict) else {}
        prompt, completion = _number(pricing.get("prompt")), _number(pricing.get("completion"))
        # OpenRouter marks a router whose price is decided per request (openrouter/auto) with -1.
        priced = prompt is not None and completion is not None and prompt >= 0 and completion >= 0
        models[entry["id"]] = Price(prompt, completion, _number(pricing.get("request")) or 0.0) if priced else None
    return models


def parse_key(body: Any) -> KeyInfo:
    data = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else {}
    return KeyInfo(
        limit=_number(data.get("limit")),
        usage=_number(data.get("usage")),
        limit_remaining=_number(data.get("limit_remaining")),
        is_free_tier=bool(data.get("is_free_tier")),
    )


def probe(base_url: str, api_key: str | None, timeout_s: float = 30.0) -> Endpoint:
    """Ask `GET {base}/models` and `GET {base}/key`; never a completion."""
    endpoint = Endpoint(base_url)
    base = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def scrub(text: str) -> str:
        return text.replace(api_key, REDACTED) if api_key else text

    with httpx.Client(headers=headers, timeout=timeout_s) as http:
        for route in ("models", "key"):
            try:
                response = http.get(f"{base}/{route}")
            except httpx.TransportError as exc:
                endpoint.unreachable = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
                return endpoint
            status, body = response.status_code, _json(response)
            if status in (401, 403):
                endpoint.key_rejected = scrub(f"HTTP {status}: {_message(body, response.reason_phrase)}")[:300]
                return endpoint
            if status == 404:
                endpoint.notes.append(_missing(route, base))
            elif status != 200:
                endpoint.notes.append(
                    f"GET {base}/{route} answered HTTP {status}: "
                    f"{'model ids and prices' if route == 'models' else 'key and credit'} not checked"
                )
            elif route == "models":
                endpoint.models = parse_models(body)
            else:
                endpoint.key = parse_key(body)
    return endpoint


def _missing(route: str, base: str) -> str:
    if route == "models":
        return f"{base} has no /models route: model ids not checked, no prices"
    return f"{base} has no /key route (not OpenRouter): key and credit not checked before the first request"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(body: Any, fallback: str) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(error) if error else fallback
