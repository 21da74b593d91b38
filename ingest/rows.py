"""The stored row of one response: who asked what, what came back, and how it was graded.

The columns are `shards.RESPONSE_SCHEMA`'s. A row is built in steps: the fields every response has
(`base_row`), then what came back (`completion_fields`, or the error), then the grade (`grade_fields`).
Grading itself is `grading.py`'s; here only the reasons a completion could not be read are told apart.
"""

from __future__ import annotations

import time
from typing import Any

from . import prompts
from .answers import EXTRACTOR_VERSION, Graded, grade_reply
from .errors import APIError
from .problems import Problem
from .reply import Completion
from .run_config import RunConfig
from .work import Unit


def base_row(run_id: str, config: RunConfig, unit: Unit, arm: str) -> dict[str, Any]:
    problem = unit.problem
    return {
        "response_id": unit.response_id(arm),
        "run_id": run_id,
        "source": "collector",
        "model": unit.model,
        "problem_id": problem.problem_id,
        "kind": problem.kind,
        "digit": problem.digit,
        "arm": arm,
        "seed": unit.seed,
        "sample": unit.sample,
        "gold_answer": problem.gold_answer,
        "reported_correct": None,
        "prompt_version": prompts.PROMPT_VERSION,
        "extractor_version": EXTRACTOR_VERSION,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "created_at": time.time_ns() // 1000,
        "error": None,
    }


def no_code_fields() -> dict[str, Any]:
    """The sim answer holds no program: controlsim and code record that instead of running."""
    return dict(response_text="", parse_error="no_code", verdict="parse_error", verdict_reason="no_code")


def error_fields(error: APIError) -> dict[str, Any]:
    return dict(error=str(error) or error.error_class, error_class=error.error_class, status_code=error.status_code)


def completion_fields(completion: Completion) -> dict[str, Any]:
    return dict(
        response_text=completion.text or "",
        latency_ms=completion.latency_ms,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        cost=completion.cost,
        provider_model=completion.provider_model,
        finish_reason=completion.finish_reason,
        native_finish_reason=completion.native_finish_reason,
        reasoning=completion.reasoning,
        reasoning_tokens=completion.reasoning_tokens,
        generation_id=completion.generation_id,
        provider_name=completion.provider,
    )


def grade_fields(graded: Graded) -> dict[str, Any]:
    return dict(
        parsed_answer=graded.parsed_answer,
        parse_error=graded.parse_error,
        verdict=graded.verdict,
        verdict_reason=graded.verdict_reason,
    )


def grade_completion(problem: Problem, completion: Completion) -> Graded:
    """Grade the answer; when it cannot be read, the reader says how the model stopped if that explains it."""
    return grade_reply(problem.kind, problem.instance, completion.text, completion.finish_reason, completion.reasoning)
