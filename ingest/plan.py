"""The plan of a run before it spends anything: what is left to ask, what it will cost, what would stop it.

For each model × arm: the requests still to send (the collector's own resume logic decides), their
prompt tokens and completion tokens, and their cost at the endpoint's prices. Estimates:

- prompt tokens: the rendered prompt's characters (system + user message) times the tokens per
  character measured on this model × arm's stored responses, else 1 token per 4 characters (the common
  rule of thumb for English; digit-heavy prompts run denser, so measured ratios win once there are any).
  A `controlsim` prompt holds the `sim` answer's code: when that answer is not stored yet, the `sim`
  completion estimate is added as an upper bound on the code's length.
- completion tokens: the mean over this model × arm's stored answers, else `max_tokens` (a ceiling).

Blockers (a run would waste money or fail at once): the endpoint cannot be reached, the key is
refused, a model id is not listed, the estimate exceeds the credit left on the key (or, with
`max_cost`, what the cap lets the run spend), or `max_cost` is set but a model has no price to
enforce it with. What cannot be checked (no `/key` route on vLLM or Ollama) is a note.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from evalhouse.vocabulary import DEPENDENT_ARMS, REQUEST_ARMS, response_id

from . import prompts
from .answers import extract_code
from .endpoint import Endpoint, Price
from .problems import Problem
from .store import StoredState, StoredUsage, stored_usage

CHARS_PER_TOKEN = 4.0


@dataclass
class Line:
    """One model × arm of the plan."""

    model: str
    arm: str
    requests: int = 0
    prompt_chars: int = 0
    code_unknown: int = 0  # controlsim requests whose sim answer is not stored yet
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    completion_basis: str = ""
    price: Price | None = None

    @property
    def cost(self) -> float | None:
        if self.price is None:
            return None
        p = self.price
        return self.prompt_tokens * p.prompt + self.completion_tokens * p.completion + self.requests * p.request


@dataclass
class Plan:
    base_url: str
    lines: list[Line]
    stored: int  # responses of this plan already stored
    executions: int  # code-arm sandbox runs (no request, no cost)
    pending: int  # controlsim/code waiting on a sim answer stored as an error
    spent: float  # USD already paid for this plan's stored responses (reported, else priced from tokens)
    endpoint: Endpoint
    max_cost: float | None = None
    blockers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(line.requests for line in self.lines)

    @property
    def cost(self) -> float:
        """The estimate over the lines that have a price."""
        return sum(line.cost or 0.0 for line in self.lines)

    @property
    def priced(self) -> bool:
        return not self.unpriced_models()

    def unpriced_models(self) -> list[str]:
        """Models with requests to ask and no price at the endpoint."""
        return sorted({line.model for line in self.lines if line.requests and line.price is None})

    def cap_unpriced(self) -> str:
        return (
            f"--max-cost needs a price for every model, and {self.base_url} gives none for "
            f"{', '.join(self.unpriced_models())}"
        )

    @property
    def cap_left(self) -> float | None:
        return None if self.max_cost is None else max(0.0, self.max_cost - self.spent)

    @property
    def will_spend(self) -> float:
        """At most what the run can spend: the estimate, or what the cap leaves if that is less."""
        return self.cost if self.cap_left is None else min(self.cost, self.cap_left)

    def prices(self) -> dict[str, Price]:
        return {line.model: line.price for line in self.lines if line.price is not None}

    def table(self) -> list[str]:
        rows = [("model", "arm", "requests", "prompt tok", "completion tok", "basis", "$/M in/out", "est. cost")]
        for line in self.lines:
            rows.append(
                (
                    line.model,
                    line.arm,
                    f"{line.requests:,}",
                    f"{line.prompt_tokens:,.0f}",
                    f"{line.completion_tokens:,.0f}",
                    line.completion_basis,
                    line.price.per_million() if line.price else "?",
                    _usd(line.cost),
                )
            )
        rows.append(
            (
                "total",
                "",
                f"{self.requests:,}",
                f"{sum(x.prompt_tokens for x in self.lines):,.0f}",
                f"{sum(x.completion_tokens for x in self.lines):,.0f}",
                "",
                "",
                self._total_cost(),
            )
        )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        right = {2, 3, 4, 7}
        return [
            "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows
        ]

    def _total_cost(self) -> str:
        if self.priced:
            return _usd(self.cost)
        return f"{_usd(self.cost)} + ?" if any(line.price for line in self.lines) else "?"

    def lines_out(self) -> list[str]:
        """The table, then the facts around it and the notes (the blockers are the caller's error)."""
        out = [f"plan against {self.base_url}:", *self.table()]
        out.append(
            f"already stored: {self.stored:,} responses of this plan (spent ${self.spent:.4f}); "
            f"code arm: {self.executions:,} sandbox runs (no cost)"
            + (f"; {self.pending:,} wait on a failed sim answer (--retry-errors asks it again)" if self.pending else "")
        )
        key = self.endpoint.key
        if key is not None:
            credit = (
                "no credit limit"
                if key.limit is None or key.limit_remaining is None
                else f"limit ${key.limit:.2f}, ${key.limit_remaining:.4f} left"
            )
            out.append(
                f"key: accepted; {credit}; used ${key.usage or 0:.4f}" + (" (free tier)" if key.is_free_tier else "")
            )
        if self.max_cost is not None:
            out.append(
                f"cap (--max-cost ${self.max_cost:g}, over this plan's total): ${self.cap_left:.4f} left to spend"
                + ("; the estimate passes it, so the run will stop at the cap" if self.cost > self.cap_left else "")
            )
        out += [f"note: {n}" for n in self.notes]
        return out


def make_plan(config, stored, instances, state: StoredState, work, skipped: int, endpoint: Endpoint) -> Plan:
    """The plan of the work list `work` (the collector's), priced from what `stored` holds and the endpoint says."""
    ids = [
        response_id(model, problem.problem_id, arm, seed, sample)
        for model in config.models
        for problem in instances
        for arm in config.arms
        if arm in REQUEST_ARMS
        for seed in config.seeds
        for sample in range(config.samples)
    ]
    usage = stored_usage(stored, ids)

    def stored_sim(model: str, problem: Problem, seed: int, sample: int) -> str | None:
        return state.sim_text(response_id(model, problem.problem_id, "sim", seed, sample))

    lines, executions, pending = tally(config, work, stored_sim)
    return Plan(
        config.base_url,
        estimate(lines, usage, config.max_tokens, endpoint),
        skipped,
        executions,
        pending,
        spent(usage, endpoint),
        endpoint,
        config.max_cost,
    )


def _usd(value: float | None) -> str:
    return "?" if value is None else f"${value:,.4f}"


def tally(
    config,
    work,
    stored_sim: Callable[[str, Problem, int, int], str | None],
) -> tuple[dict[tuple[str, str], Line], int, int]:
    """Requests per model × arm from the collector's work list: (lines, code runs, pending).

    `stored_sim(model, problem, seed, sample)` is the stored sim answer's text, or None.
    """
    lines: dict[tuple[str, str], Line] = {}
    executions = pending = 0
    system = len(prompts.SYSTEM)

    def line(model: str, arm: str) -> Line:
        return lines.setdefault((model, arm), Line(model, arm))

    for model in config.models:
        for arm in config.arms:
            if arm in REQUEST_ARMS:
                line(model, arm)
    for model, problem, seed, sample, needed in work:
        for arm in ("nl", "sim"):
            if arm in needed:
                entry = line(model, arm)
                entry.requests += 1
                entry.prompt_chars += system + len(prompts.user_prompt(arm, problem))
        dependent = needed & set(DEPENDENT_ARMS)
        if not dependent:
            continue
        sim_text = None if "sim" in needed else stored_sim(model, problem, seed, sample)
        if "sim" not in needed and sim_text is None:
            pending += len(dependent)
            continue
        executions += "code" in dependent
        if "controlsim" in dependent:
            code = extract_code(sim_text) if sim_text is not None else ""
            if code is None:
                continue  # the stored sim answer has no program: recorded without a request
            entry = line(model, "controlsim")
            entry.requests += 1
            entry.prompt_chars += system + len(prompts.user_prompt("controlsim", problem, code))
            entry.code_unknown += sim_text is None
    return lines, executions, pending


def estimate(
    lines: dict[tuple[str, str], Line], usage: dict[tuple[str, str], StoredUsage], max_tokens: int, endpoint: Endpoint
) -> list[Line]:
    """Fill in tokens and prices (see the module docstring for the estimators)."""

    def completion_per_request(model: str, arm: str) -> tuple[float, str]:
        mean = usage.get((model, arm), StoredUsage()).mean_completion_tokens
        if mean is None:
            return float(max_tokens), "max_tokens (ceiling)"
        return mean, f"mean of {usage[(model, arm)].answered:,}"

    for (model, arm), entry in lines.items():
        ratio = usage.get((model, arm), StoredUsage()).tokens_per_char or 1 / CHARS_PER_TOKEN
        per_request, entry.completion_basis = completion_per_request(model, arm)
        sim_completion, _ = completion_per_request(model, "sim")
        entry.prompt_tokens = entry.prompt_chars * ratio + entry.code_unknown * sim_completion
        entry.completion_tokens = entry.requests * per_request
        entry.price = endpoint.price(model)
    return list(lines.values())


def spent(usage: dict[tuple[str, str], StoredUsage], endpoint: Endpoint) -> float:
    """USD paid for the stored rows: the provider's reported cost, else their tokens at today's prices."""
    total = 0.0
    for (model, _), u in usage.items():
        total += u.reported_cost
        price = endpoint.price(model)
        if price is not None:
            total += u.unpriced_prompt_tokens * price.prompt + u.unpriced_completion_tokens * price.completion
    return total


def check(plan: Plan, models: list[str], key_given: bool) -> None:
    """Fill the plan's blockers and notes from what the endpoint said."""
    endpoint = plan.endpoint
    plan.notes += endpoint.notes
    if endpoint.unreachable:
        plan.blockers.append(f"cannot reach {endpoint.base_url} ({endpoint.unreachable})")
        return
    if endpoint.key_rejected:
        fix = (
            "check EVALHOUSE_API_KEY (or OPENROUTER_API_KEY)"
            if key_given
            else "no key is set: export EVALHOUSE_API_KEY (or OPENROUTER_API_KEY)"
        )
        plan.blockers.append(f"the endpoint refused the key ({endpoint.key_rejected}); {fix}")
        return
    unknown = [m for m in models if not endpoint.knows(m)]
    if unknown:
        listed = list(endpoint.models or {})
        named = []
        for m in unknown:
            close = difflib.get_close_matches(m, listed, n=1, cutoff=0.6)
            named.append(m + (f" (did you mean {close[0]}?)" if close else ""))
        plan.blockers.append(f"unknown model id(s) at {endpoint.base_url}: {', '.join(named)}")
    if plan.max_cost is not None and not plan.priced:
        plan.blockers.append(plan.cap_unpriced())
    key = endpoint.key
    if key is None:
        return
    if key.limit_remaining is not None and plan.will_spend > key.limit_remaining:
        plan.blockers.append(
            f"the estimated cost ${plan.will_spend:.4f} exceeds the credit left on the key "
            f"(${key.limit_remaining:.4f}); add credit, raise the key's limit, ask for less, "
            "or set --max-cost below the credit"
        )
    if key.limit is None:
        plan.notes.append(
            "the key has no credit limit, so the credit left on the account is not checked "
            "(set a limit on the key to have it checked)"
        )
    if key.is_free_tier and any(line.price and (line.price.prompt or line.price.completion) for line in plan.lines):
        plan.notes.append("the key is on the free tier: paid models may refuse it (HTTP 402)")
