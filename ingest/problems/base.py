"""The shape every problem kind shares: generate, ask, solve, check.

A kind is deterministic: the same (kind, digit, index, problem seed) gives the same instance and
`problem_id` on any machine, because the instance comes from a `random.Random` seeded with a SHA-256
of those four values (Python's Mersenne Twister is specified bit for bit across platforms).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from .answers import read_int

GENERATOR_VERSION = "g1"
_NOT_CACHED = object()


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
    """One problem kind. Subclasses set `name` and `family` and implement generate, question, solve.

    Comparison kinds (`needs_verifier = False`) have one right answer: `gold()` is its canonical
    string and `normalize()` maps any acceptable spelling of it to exactly that string, which is what
    the warehouse compares. Verifier kinds have many right answers: `check()` decides, `gold()` is the
    optimal value (or None) and `normalize()` is only a canonical record of what was answered.
    """

    name: ClassVar[str]
    family: ClassVar[str] = "fine_grained"  # fine_grained | clrs | np_hard
    has_digit: ClassVar[bool] = True
    needs_verifier: ClassVar[bool] = False
    answer_hint: ClassVar[str] = "an integer"

    def generate(self, rng: random.Random, digit: int) -> dict[str, Any]:
        """A JSON-shaped instance. `digit` is the size; kinds without one get their level (see `make`)."""
        raise NotImplementedError

    def question(self, instance: dict[str, Any]) -> str:
        raise NotImplementedError

    def solve(self, instance: dict[str, Any]) -> Any:
        """The reference answer (a JSON value the checker accepts as correct)."""
        raise NotImplementedError

    def read(self, answer: Any) -> Any:
        """The answer as this kind's value type, or None when it cannot be read as one."""
        return to_int(answer)

    def gold(self, instance: dict[str, Any]) -> str | None:
        """The gold as a canonical string, or None where many answers are right."""
        return canonical(self.read(self.solve(instance)))

    def normalize(self, answer: Any) -> str | None:
        """Canonical string of a model's answer, or None when it cannot be read as this kind's type."""
        value = self.read(answer)
        return None if value is None else canonical(value)

    def check(self, instance: dict[str, Any], answer: Any) -> Verdict:
        got = self.normalize(answer)
        if got is None:
            return Verdict(False, "unreadable_answer")
        gold = self.gold(instance)
        return Verdict(got == gold, "ok" if got == gold else f"wrong_value: expected {_short(gold)}, got {_short(got)}")

    def parse_question(self, text: str) -> dict[str, Any] | None:
        """The instance behind a question text, for regrading files that kept only the text."""
        return None

    def level(self, index: int) -> int:
        """The difficulty of instance `index` for kinds without a digit (cycles so every level is covered)."""
        return 0

    def wrong_answer(self, instance: dict[str, Any], rng: random.Random) -> Any:
        """A plausible wrong answer, for the synthetic endpoint's simulated mistakes."""
        right = self.solve(instance)
        for _ in range(40):
            candidate = perturb(right, rng)
            if not self.check(instance, candidate).correct:
                return candidate
        return _unmistakably_wrong(right)

    def make(self, digit: int, index: int, problem_seed: int = 0) -> Problem:
        digit = digit if self.has_digit else 0
        size = digit if self.has_digit else self.level(index)
        instance = self.generate(instance_rng(self.name, digit, index, problem_seed), size)
        return Problem(
            problem_id=problem_id(self.name, digit, index, problem_seed),
            kind=self.name,
            digit=digit,
            index=index,
            question=self.question(instance),
            gold_answer=self.gold(instance),
            instance=instance,
        )


class VerifiedKind(Kind):
    """A kind with many right answers: a verifier says valid or not, and optimal or not, and why."""

    needs_verifier = True

    def optimum(self, instance: dict[str, Any]) -> Any:
        """The optimal value (stored as `gold_answer`), or None where the kind has none."""
        return None

    def verify(self, instance: dict[str, Any], value: Any) -> Verdict:
        raise NotImplementedError

    def gold(self, instance):
        best = self.optimum(instance)
        return None if best is None else canonical(best)

    def check(self, instance, answer):
        value = self.read(answer)
        if value is None:
            return Verdict(False, "unreadable_answer")
        return self.verify(instance, value)


def _short(text: str | None, limit: int = 60) -> str:
    text = "null" if text is None else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def perturb(value: Any, rng: random.Random) -> Any:
    """A nearby value of the same shape: an int moved, a bool flipped, a list element changed or swapped."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice((-1, 1)) * rng.randint(1, max(1, abs(value) // 10 + 1))
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value, key=str))
        return {**value, key: perturb(value[key], rng)}
    if isinstance(value, (list, tuple)) and value:
        out = list(value)
        i = rng.randrange(len(out))
        if len(out) > 1 and rng.random() < 0.5:
            j = rng.randrange(len(out))
            out[i], out[j] = out[j], out[i]
        else:
            out[i] = perturb(out[i], rng)
        return out
    return value


def _unmistakably_wrong(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, dict):
        return {}
    return [] if value else [-1]


def remembered(fn: Callable) -> Callable:
    """Cache an exact solver by its JSON arguments: the same instance is solved for its gold, its checks
    and the synthetic endpoint's replies. Results are copied out so callers may change them."""
    cache: OrderedDict[str, Any] = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(fn)
    def inner(*args: Any) -> Any:
        key = json.dumps(args, sort_keys=True)
        with lock:
            hit = cache.get(key, _NOT_CACHED)
            if hit is not _NOT_CACHED:
                cache.move_to_end(key)
        if hit is _NOT_CACHED:
            hit = fn(*args)
            with lock:
                cache[key] = hit
                if len(cache) > 4096:
                    cache.popitem(last=False)
        return copy.deepcopy(hit)

    return inner


def canonical(value: Any) -> str:
    """Canonical text of an exact answer: ints as decimal, everything else as compact JSON."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


to_int = read_int
