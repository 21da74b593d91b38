"""What defines a collection: `RunConfig`. An experiment spec (`spec.py`) is this, as TOML."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

from evalhouse.vocabulary import ARM_CODES


@dataclass
class RunConfig:
    """Everything that defines a collection; an experiment spec is this, as TOML."""

    models: list[str]
    kinds: list[str]
    digits: list[int]
    n: int
    seeds: list[int] = field(default_factory=lambda: [0])
    arms: list[str] = field(default_factory=lambda: list(ARM_CODES))
    base_url: str = "https://openrouter.ai/api/v1"
    api: str = "openai-chat"  # the endpoint's wire protocol: a name in `providers.PROVIDERS`
    concurrency: int = 16
    problem_seed: int = 0
    samples: int = 1
    temperature: float = 0.0
    max_tokens: int = 4096
    checkpoint_every: int = 1000
    exec_workers: int = 2
    retry_errors: bool = False
    resume: bool = True
    max_attempts: int = 6
    timeout_s: float = 120.0
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_retry_wait: float = 300.0  # a Retry-After longer than this is not waited out: stored as an error
    retry_wait_initial: float = 1.0
    retry_wait_max: float = 60.0
    require_parameters: bool | None = None  # OpenRouter: refuse providers that would drop seed etc.
    allow_fallbacks: bool | None = None  # OpenRouter: false keeps the model from changing under you
    provider_order: list[str] | None = None  # OpenRouter: providers to try, in order
    max_cost: float | None = None  # USD cap on the plan's total cost (stored + this run); see budget.py
    preflight: bool = True  # check key, model ids and credit before the first request
    unsafe_sandbox: bool = False  # run the code arm even where only rlimits can cage it (ingest/sandbox.py)
    progress: bool = True


def make_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"run_{stamp}_{random.getrandbits(32):08x}"
