"""The JSON bodies the synthetic endpoint answers with, shaped as OpenRouter's (a superset of OpenAI's)."""

from __future__ import annotations

import random
import time
from typing import Any

from .models import SyntheticModel


def key_info(credit: float | None, usage: float, left: float | None, free_tier: bool) -> dict[str, Any]:
    """OpenRouter's `GET /api/v1/key` data (its `label` is a masked key; this one names no key at all)."""
    usage = round(usage, 12)
    return {
        "label": "synthetic-key",
        "limit": credit,
        "limit_remaining": left,
        "limit_reset": None,
        "include_byok_in_limit": False,
        "usage": usage,
        "usage_daily": usage,
        "usage_weekly": usage,
        "usage_monthly": usage,
        "is_free_tier": free_tier,
        "is_provisioning_key": False,
    }


def model_entry(model: SyntheticModel) -> dict[str, Any]:
    """One entry of OpenRouter's model list: prices are USD per token, written as decimal strings."""
    return {
        "id": model.model,
        "canonical_slug": model.model,
        "name": f"{model.model} (synthetic)",
        "created": 0,
        "context_length": 131072,
        "architecture": {"modality": "text->text", "input_modalities": ["text"], "output_modalities": ["text"]},
        "pricing": {
            "prompt": f"{model.prompt_price:.10f}".rstrip("0"),
            "completion": f"{model.completion_price:.10f}".rstrip("0"),
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {"context_length": 131072, "max_completion_tokens": 32768, "is_moderated": False},
        "supported_parameters": ["max_tokens", "temperature", "seed"],
    }


def completion_body(
    model: SyntheticModel,
    text: str,
    prompt_tokens: int,
    completion_tokens: int,
    finish_reason: str = "stop",
    cost: float | None = None,
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cost is not None:
        usage["cost"] = cost
    return {
        "id": f"gen-synthetic-{random.getrandbits(48):012x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model.model,
        "provider": "Synthetic",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
                "native_finish_reason": finish_reason,
            }
        ],
        "usage": usage,
    }
