"""The shape every problem kind shares: generate, ask, solve, check.

A kind is deterministic: the same (kind, digit, index, problem seed) gives the same instance and
`problem_id` on any machine, because the instance comes from a `random.Random` seeded with a SHA-256
of those four values (Python's Mersenne Twister is specified bit for bit across platforms).
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any, ClassVar

GENERATOR_VERSION = "g1"


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one answer: correct or not, and why."""

    correct: bool
    reason: str  # "ok", "wrong_value", "invalid: <why>", "suboptimal: <why>", ...


@dataclass(frozen=True)
class Problem:
    problem_id: str
    kind: str
    digit: int
    index: int
    question: str
    gold_answer: str | None
    instance: dict[str, Any]

    @property
    def instance_json(self) -> str:
        return json.dumps(self.instance, sort_keys=True, separators=(",", ":"))

    def as_row(self, problem_seed: int) -> dict[str, Any]:
        return {
            "problem_id": self.problem_id,
            "kind": self.kind,
            "digit": self.digit,
            "index": self.index,
            "question": self.question,
            "gold_answer": self.gold_answer,
            "instance_json": self.instance_json,
            "problem_seed": problem_seed,
            "generator_version": GENERATOR_VERSION,
        }


def problem_id(kind: str, digit: int, index: int, problem_seed: int) -> str:
    """A stable id for one generated instance, independent of model and seed."""
    payload = f"{GENERATOR_VERSION}|{kind}|{digit}|{index}|{problem_seed}"
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def instance_rng(kind: str, digit: int, index: int, problem_seed: int) -> random.Random:
    payload = f"{GENERATOR_VERSION}|rng|{kind}|{digit}|{index}|{problem_seed}"
    return random.Random(int.from_bytes(hashlib.sha256(payload.encode()).digest()[:16], "big"))


class Kind:
    """One problem kind. Subclasses set `name`, `family` and implement the four steps."""

    name: ClassVar[str]
    family: ClassVar[str] = "fine_grained"  # fine_grained | clrs | np_hard
    has_digit: ClassVar[bool] = True
    answer_hint: ClassVar[str] = "an integer"

    def generate(self, rng: random.Random, digit: int) -> dict[str, Any]:
        raise NotImplementedError

    def question(self, instance: dict[str, Any]) -> str:
        raise NotImplementedError

    def solve(self, instance: dict[str, Any]) -> Any:
        """The reference answer (a value the checker accepts as correct)."""
        raise NotImplementedError

    def gold(self, instance: dict[str, Any]) -> str | None:
        """The gold as a canonical string, or None where many answers are right."""
        return canonical(self.solve(instance))

    def normalize(self, answer: Any) -> str | None:
        """Canonical string of a model's answer, or None when it cannot be read as this kind's type."""
        value = to_int(answer)
        return None if value is None else str(value)

    def check(self, instance: dict[str, Any], answer: Any) -> Verdict:
        got = self.normalize(answer)
        if got is None:
            return Verdict(False, "unreadable_answer")
        return Verdict(got == self.gold(instance), "ok" if got == self.gold(instance) else "wrong_value")

    def wrong_answer(self, instance: dict[str, Any], rng: random.Random) -> Any:
        """A plausible wrong answer, for the synthetic endpoint's simulated mistakes."""
        right = self.solve(instance)
        return right + rng.choice((-1, 1)) * rng.randint(1, max(1, abs(right) // 10 + 1))

    def make(self, digit: int, index: int, problem_seed: int = 0) -> Problem:
        digit = digit if self.has_digit else 0
        instance = self.generate(instance_rng(self.name, digit, index, problem_seed), digit)
        return Problem(
            problem_id=problem_id(self.name, digit, index, problem_seed),
            kind=self.name,
            digit=digit,
            index=index,
            question=self.question(instance),
            gold_answer=self.gold(instance),
            instance=instance,
        )


def canonical(value: Any) -> str:
    """Canonical text of an exact answer: ints as decimal, everything else as compact JSON."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def to_int(answer: Any) -> int | None:
    """Read an integer answer exactly: 1234, "1234", "1,234", "1234.0", "-12". Never through a float."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float):
        return int(answer) if answer.is_integer() else None
    if isinstance(answer, (list, tuple)) and len(answer) == 1:
        return to_int(answer[0])
    if not isinstance(answer, str):
        return None
    text = answer.strip().replace(",", "").replace("_", "").replace(" ", "")
    if text.startswith("+"):
        text = text[1:]
    if text.endswith(".0"):
        text = text[:-2]
    sign = -1 if text.startswith("-") else 1
    digits = text[1:] if sign < 0 else text
    if not digits.isdigit():
        return None
    return sign * int(digits)
