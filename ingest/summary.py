"""How a run went: its `Summary`, and the ways a run stops before the end of its plan."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class RunAborted(Exception):
    """The provider refused the run itself (key rejected, no credit); what landed before is stored."""


class PreflightFailed(RunAborted):
    """The pre-flight found a problem (key, model id, credit): nothing was sent."""


class Interrupted(Exception):
    """The run was stopped by a signal; what landed before is stored."""


@dataclass
class Summary:
    planned: int = 0
    done: int = 0
    errors: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    pending: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    requests: int = 0
    executions: int = 0
    skipped: int = 0
    recovered: int = 0
    elapsed_s: float = 0.0
    max_cost: float | None = None
    spent_before: float = 0.0  # USD the plan's stored responses had cost when the run began
    spent: float = 0.0  # USD this run spent, as the cap counts it (reported cost, else tokens at prices)
    cap_reached: bool = False
    unasked: int = 0  # responses not asked because of the cap
    left_to_others: int = 0  # responses of the plan claimed by another live run (see claims.py)
    others: list[str] = field(default_factory=list)  # those runs: run id, pid, host, start

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s else 0.0

    def lines(self) -> list[str]:
        errors = ", ".join(f"{k}={v}" for k, v in sorted(self.errors.items())) or "none"
        retries = ", ".join(f"{k}={v}" for k, v in sorted(self.retries.items())) or "none"
        lines = [
            f"stored {self.done} of {self.planned} responses ({self.requests} requests, {self.executions} code runs); "
            f"{self.skipped} were already stored",
            f"errors (stored as error rows): {errors}",
            f"retries: {retries}",
            f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion; cost {self.cost:.4f}",
            f"elapsed {self.elapsed_s:.1f}s, {self.rate:.1f} responses/s",
        ]
        if self.pending:
            lines.append(f"pending: {self.pending} controlsim/code responses wait for a sim answer that failed")
        if self.recovered:
            lines.append(f"recovered {self.recovered} responses from the journal of a killed run")
        if self.left_to_others:
            lines.append(
                f"shared the plan: {self.left_to_others} responses were claimed by another live run "
                f"({'; '.join(self.others) or 'gone by now'}), which collects them"
            )
        if self.max_cost is not None:
            lines.append(
                f"cost cap ${self.max_cost:g} over the plan: ${self.spent_before + self.spent:.4f} spent "
                f"(${self.spent:.4f} by this run)"
            )
        if self.cap_reached:
            lines.append(
                f"stopped at the cost cap: {self.unasked} responses not asked; rerun with a higher "
                "--max-cost to go on (what is stored is kept and not asked again)"
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["errors"], d["retries"] = dict(self.errors), dict(self.retries)
        return d
