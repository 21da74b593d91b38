"""Simulated models for offline runs. They are synthetic: their ids start with `synthetic/` and their
labs say "(synthetic)", so they can never be mistaken for measurements of real models.

A simulated model reads the problem inside the prompt, looks up the instance, and answers in the
arm's JSON format: right with the arm's accuracy (lower at higher digits), wrong otherwise. Its
choices are a hash of (model, problem, arm, seed), so the same request always gets the same answer.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
from dataclasses import dataclass
from typing import Any

from evalhouse.ingest.problems import get_kind


@dataclass(frozen=True)
class SyntheticModel:
    model: str
    lab: str
    category: str
    accuracy: dict[str, float]  # per arm: nl, sim, controlsim, code
    digit_penalty: float = 0.015  # accuracy lost per digit of difficulty
    parse_failure: float = 0.02  # share of replies with no readable JSON
    prompt_price: float = 2e-7  # USD per prompt token, as OpenRouter's `pricing.prompt`
    completion_price: float = 8e-7  # USD per completion token

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens * self.prompt_price + completion_tokens * self.completion_price

    def p_correct(self, arm: str, digit: int) -> float:
        return min(0.99, max(0.02, self.accuracy[arm] - self.digit_penalty * digit))


CATALOG: dict[str, SyntheticModel] = {
    m.model: m
    for m in (
        SyntheticModel(
            "synthetic/atlas-large",
            "Atlas Labs (synthetic)",
            "flagship",
            {"nl": 0.72, "sim": 0.80, "controlsim": 0.84, "code": 0.95},
            prompt_price=2e-6,
            completion_price=8e-6,
        ),
        SyntheticModel(
            "synthetic/atlas-mini",
            "Atlas Labs (synthetic)",
            "budget",
            {"nl": 0.45, "sim": 0.58, "controlsim": 0.62, "code": 0.82},
            prompt_price=1.5e-7,
            completion_price=6e-7,
        ),
        SyntheticModel(
            "synthetic/boreal-pro",
            "Boreal AI (synthetic)",
            "flagship",
            {"nl": 0.64, "sim": 0.72, "controlsim": 0.78, "code": 0.90},
            prompt_price=1e-6,
            completion_price=4e-6,
        ),
        SyntheticModel(
            "synthetic/boreal-lite",
            "Boreal AI (synthetic)",
            "budget",
            {"nl": 0.35, "sim": 0.48, "controlsim": 0.55, "code": 0.74},
            prompt_price=1e-7,
            completion_price=4e-7,
        ),
        SyntheticModel(
            "synthetic/cirrus-reasoner",
            "Cirrus Research (synthetic)",
            "reasoning",
            {"nl": 0.82, "sim": 0.84, "controlsim": 0.86, "code": 0.93},
            prompt_price=3e-6,
            completion_price=1.2e-5,
        ),
    )
}

_RETURN = re.compile(r"return json\.loads\((.+)\)\s*$", re.M)


def rng_for(*parts: Any) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _program(value: Any) -> str:
    """A stand-in program printing its belief; the JSON sits in a Python string so true/null survive."""
    return (
        "# synthetic model: a stand-in program that returns its belief\n"
        "import json\n\n"
        "def solve():\n"
        f"    return json.loads({json.dumps(value)!r})\n\n"
        "print(json.dumps(solve()))\n"
    )


def _returned(code: str) -> Any:
    """The value a stand-in program returns, or None when the code is not one of ours."""
    m = _RETURN.search(code)
    if not m:
        return None
    try:
        return json.loads(ast.literal_eval(m.group(1)))
    except (ValueError, SyntaxError):
        return None


def _belief(kind_name: str, instance: dict[str, Any], right: bool, rng: random.Random) -> Any:
    kind = get_kind(kind_name)
    return kind.solve(instance) if right else kind.wrong_answer(instance, rng)


def reply(
    model: SyntheticModel, arm: str, kind: str, digit: int, instance: dict[str, Any], seed: Any, code: str | None
) -> str:
    """The text a simulated model sends back for one request."""
    rng = rng_for(model.model, kind, json.dumps(instance, sort_keys=True), arm, seed)
    if rng.random() < model.parse_failure:
        return "I worked through this carefully, and I believe the result is what I described above."
    if arm == "nl":
        answer = _belief(kind, instance, rng.random() < model.p_correct("nl", digit), rng)
        body = {"reasoning": "Synthetic reasoning: step 1, step 2, step 3.", "answer": answer}
        return f"Here is my solution.\n```json\n{json.dumps(body)}\n```"
    if arm == "sim":
        program_value = _belief(kind, instance, rng.random() < model.p_correct("code", digit), rng)
        stated = (
            program_value
            if rng.random() < model.p_correct("sim", digit) / max(model.p_correct("code", digit), 1e-9)
            else _belief(kind, instance, False, rng)
        )
        body = {"code": _program(program_value), "simulation": "Synthetic trace of the program.", "answer": stated}
        return json.dumps(body)
    if arm == "controlsim":
        printed = _returned(code) if code else None
        if printed is None or rng.random() > model.p_correct("controlsim", digit) / max(
            model.p_correct("code", digit), 1e-9
        ):
            printed = _belief(kind, instance, rng.random() < model.p_correct("controlsim", digit), rng)
        return json.dumps({"simulation": "Synthetic trace of the given program.", "answer": printed})
    raise ValueError(f"arm {arm!r} is not a request")
