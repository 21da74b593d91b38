"""The run's plan of work: the problems, and every unit with arms still to collect.

A unit is one (model, problem, seed, sample) with the arms it still needs. Its arms are chained (the
`controlsim` prompt and the `code` run both take the program of the `sim` answer), so a unit is claimed,
started and finished whole. What is stored decides what is needed: a success always counts as done; an
error row too, unless errors are to be asked again (`retry_errors`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

from evalhouse.config import Paths
from evalhouse.vocabulary import response_id

from .journal import shard_exists
from .problems import Problem, generate
from .run_config import RunConfig
from .shards import table_from_rows, write_shard
from .store import StoredState, problems_schema


class Unit(NamedTuple):
    model: str
    problem: Problem
    seed: int
    sample: int
    needed: frozenset[str]  # arms still to collect

    @property
    def key(self) -> str:
        """What identifies the unit whatever the plan (the claims hash it)."""
        return f"{self.model}|{self.problem.problem_id}|{self.seed}|{self.sample}"

    def response_id(self, arm: str) -> str:
        return response_id(self.model, self.problem.problem_id, arm, self.seed, self.sample)


def problems(config: RunConfig) -> list[Problem]:
    """The plan's instances: they depend only on kinds, digits, n and the problem seed."""
    return list(generate(config.kinds, config.digits, config.n, config.problem_seed))


def write_problems(paths: Paths, config: RunConfig, instances: list[Problem]) -> Path | str:
    """Store the instances once per plan (same plan, same file), beside the responses' shards."""
    ids = hashlib.sha256("|".join(p.problem_id for p in instances).encode()).hexdigest()[:16]
    folder = paths.stored(paths.problems)
    if not shard_exists(folder, f"problems-{ids}"):
        rows = [p.as_row(config.problem_seed) for p in instances]
        write_shard(table_from_rows(rows, problems_schema()), folder, f"problems-{ids}")
    return f"{folder}/problems-{ids}.parquet"


def units(config: RunConfig, instances: list[Problem], state: StoredState) -> tuple[list[Unit], int]:
    """Every unit with work left, in plan order, and how many responses of the plan are stored already."""
    work, stored = [], 0
    for model in config.models:
        for seed in config.seeds:
            for sample in range(config.samples):
                for problem in instances:
                    needed = frozenset(
                        arm
                        for arm in config.arms
                        if not state.has(response_id(model, problem.problem_id, arm, seed, sample), config.retry_errors)
                    )
                    if needed:
                        work.append(Unit(model, problem, seed, sample, needed))
                    stored += len(config.arms) - len(needed)
    return work, stored
