"""What the experiment specs ask for, what is stored, and what the next rerun would do.

Read from the specs and the shards alone: nothing is sent, nothing is built. A cell is one
(model, problem, arm, seed, sample); it is stored when a success is on disk, failed when only errors
are (the rerun asks again), and missing when nothing is (never asked, or waiting on a failed `sim`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evalhouse.ingest.collector import RunConfig, response_id
from evalhouse.ingest.problems import generate
from evalhouse.ingest.spec import SpecError, load_spec, make_config
from evalhouse.ingest.store import StoredState

# How a rerun runs a spec: resume, ask again for errors, no progress bar in a log file.
RERUN_FLAGS = {"resume": True, "retry_errors": True, "progress": False}


@dataclass(frozen=True)
class Cell:
    response_id: str
    model: str
    problem_id: str
    kind: str
    digit: int
    arm: str
    seed: int
    sample: int


@dataclass
class SpecPlan:
    """One spec's expected cells against the shards."""

    spec: Path
    config: RunConfig
    expected: int = 0
    stored: int = 0
    failed: Counter = field(default_factory=Counter)  # arm -> cells stored only as errors
    missing: Counter = field(default_factory=Counter)  # arm -> cells with nothing stored

    @property
    def todo(self) -> Counter:
        return self.failed + self.missing

    @property
    def requests(self) -> int:
        """Requests the next rerun would send at least (retries of a failed request come on top)."""
        return sum(n for arm, n in self.todo.items() if arm != "code")

    @property
    def executions(self) -> int:
        return self.todo["code"]

    def describe(self) -> str:
        if not self.todo:
            return f"{self.spec.name}: complete ({self.stored} of {self.expected} stored); nothing to collect"
        arms = ", ".join(f"{arm} {n}" for arm, n in sorted(self.todo.items()))
        return (
            f"{self.spec.name}: {self.stored} of {self.expected} stored; would collect "
            f"{sum(self.missing.values())} missing and retry {sum(self.failed.values())} failed "
            f"({self.requests} requests, {self.executions} code runs; by arm: {arms}) from {self.config.base_url}"
        )

    def to_dict(self) -> dict:
        return {
            "spec": str(self.spec),
            "base_url": self.config.base_url,
            "models": self.config.models,
            "expected": self.expected,
            "stored": self.stored,
            "failed": sum(self.failed.values()),
            "missing": sum(self.missing.values()),
            "requests": self.requests,
            "executions": self.executions,
            "todo_by_arm": dict(self.todo),
        }


def find_specs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def load_configs(folder: Path) -> list[tuple[Path, RunConfig]]:
    """Every spec in the folder, as the rerun would run it; the first bad spec raises SpecError."""
    specs = find_specs(folder)
    if not specs:
        raise SpecError(
            f"no experiment specs (*.toml) in {folder.absolute()}; "
            "run from the folder that holds experiments/ or pass --experiments"
        )
    configs = []
    for spec in specs:
        try:
            configs.append((spec, make_config(load_spec(spec), RERUN_FLAGS)))
        except SpecError as exc:
            message = str(exc)
            raise SpecError(message if message.startswith(str(spec)) else f"{spec}: {message}") from None
    return configs


def cells(config: RunConfig) -> Iterator[Cell]:
    """Every cell a spec defines, with the collector's own response ids."""
    problems = list(generate(config.kinds, config.digits, config.n, config.problem_seed))
    for model in config.models:
        for seed in config.seeds:
            for sample in range(config.samples):
                for p in problems:
                    for arm in config.arms:
                        yield Cell(
                            response_id(model, p.problem_id, arm, seed, sample),
                            model,
                            p.problem_id,
                            p.kind,
                            p.digit,
                            arm,
                            seed,
                            sample,
                        )


def plan(spec: Path, config: RunConfig, state: StoredState) -> SpecPlan:
    result = SpecPlan(spec, config)
    for cell in cells(config):
        result.expected += 1
        if cell.response_id in state.ok:
            result.stored += 1
        elif cell.response_id in state.failed:
            result.failed[cell.arm] += 1
        else:
            result.missing[cell.arm] += 1
    return result
