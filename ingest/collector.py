"""Collecting responses: plan what is missing, ask for it through a sliding window, store each answer.

Before the first request, a pre-flight (`plan.py`) checks the key, the model ids and the credit left
against an estimate of the cost; with `max_cost` a budget (`budget.py`) stops starting requests before
the plan's cost could pass the cap. A fixed number of requests is in flight; each finished request frees
its slot at once, so one slow answer never holds up a batch. A request waiting out a backoff holds no
slot. Every answer is journaled the moment it lands and reaches a Parquet shard at the next checkpoint,
so a killed run loses nothing it received. `response_id` is a hash of (model, problem, arm, seed,
sample): a second run asks only for what is not stored yet (and, with `retry_errors`, for what is stored
as an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import stamina
import stamina.instrumentation
from tqdm import tqdm

from evalhouse import __version__
from evalhouse.config import Paths
from evalhouse.vocabulary import ARM_CODES, DEPENDENT_ARMS, REQUEST_ARMS, response_id

from . import prompts
from .answers import EXTRACTOR_VERSION, Graded, extract_code, grade_printed, grade_reply
from .budget import Budget, CapReached
from .client import APIError, ChatClient, Completion, EmptyAnswer, MalformedBody, RetryableError, RunStopper, payload
from .journal import recover, shard_exists
from .plan import Plan, check, estimate, spent, tally
from .problems import GENERATOR_VERSION, Problem, generate
from .provider import probe
from .ratelimit import Limits as RateLimits
from .sandbox import Limits, SandboxUnavailable, require, run_code
from .shards import RESPONSE_SCHEMA, ShardWriter, clean_leftovers, table_from_rows, write_atomic
from .store import StoredState, load_state, problems_schema, stored_usage

log = logging.getLogger("evalhouse.collector")


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
    unsafe_sandbox: bool = False  # let the code arm run with rlimits only where no sandbox can be built
    progress: bool = True

    def provider(self) -> dict[str, Any] | None:
        """OpenRouter's `provider` routing object, when any routing option is set."""
        routing = {
            "require_parameters": self.require_parameters,
            "allow_fallbacks": self.allow_fallbacks,
            "order": self.provider_order,
        }
        routing = {k: v for k, v in routing.items() if v is not None}
        return routing or None


def make_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"run_{stamp}_{random.getrandbits(32):08x}"


def _now_us() -> int:
    return time.time_ns() // 1000


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


class Collector:
    def __init__(
        self,
        config: RunConfig,
        paths: Paths,
        api_key: str | None,
        run_id: str | None = None,
        notify: Callable[[str], None] | None = None,
    ):
        self.config, self.paths, self._api_key = config, paths, api_key
        self.run_id = run_id or make_run_id()
        self.summary = Summary(max_cost=config.max_cost)
        self._notify = notify or (lambda line: None)  # where the pre-flight's lines go (the CLI: stderr)
        self._budget: Budget | None = None
        self.root = paths.responses / "source=collector"  # the journal and run manifests: always local
        self.folder = self.root / f"run_id={self.run_id}"
        self.stored = paths.stored(paths.responses)  # where shards are: this folder or the bucket (s3://…)
        self._provider = config.provider()
        self._bar: tqdm | None = None

    # -- planning -------------------------------------------------------------------------
    def problems(self) -> list[Problem]:
        c = self.config
        return list(generate(c.kinds, c.digits, c.n, c.problem_seed))

    def write_problems(self, problems: list[Problem]) -> Path | str:
        """Store the instances once per plan (same plan, same file), beside the responses' shards."""
        ids = hashlib.sha256("|".join(p.problem_id for p in problems).encode()).hexdigest()[:16]
        folder = self.paths.stored(self.paths.problems)
        if not shard_exists(folder, f"problems-{ids}"):
            rows = [p.as_row(self.config.problem_seed) for p in problems]
            write_atomic(table_from_rows(rows, problems_schema()), folder, f"problems-{ids}")
        return f"{folder}/problems-{ids}.parquet"

    def units(
        self, problems: list[Problem], state: StoredState
    ) -> Iterator[tuple[str, Problem, int, int, frozenset[str]]]:
        """(model, problem, seed, sample, arms still needed) for every cell with work left."""
        c = self.config
        for model in c.models:
            for seed in c.seeds:
                for sample in range(c.samples):
                    for problem in problems:
                        needed = frozenset(
                            arm
                            for arm in c.arms
                            if not state.has(response_id(model, problem.problem_id, arm, seed, sample), c.retry_errors)
                        )
                        if needed:
                            yield model, problem, seed, sample, needed
                        self.summary.skipped += len(c.arms) - len(needed)

    def plan(self) -> Plan:
        """What a run would ask and what it would cost, checked against the endpoint; sends no completion."""
        problems = self.problems()
        state = load_state(self.stored) if self.config.resume else StoredState.empty()
        return self._plan(problems, state, list(self.units(problems, state)))

    def _plan(self, problems: list[Problem], state: StoredState, work: list) -> Plan:
        c = self.config
        endpoint = probe(c.base_url, self._api_key, timeout_s=min(c.timeout_s, 30.0))
        ids = [
            response_id(model, problem.problem_id, arm, seed, sample)
            for model in c.models
            for problem in problems
            for arm in c.arms
            if arm in REQUEST_ARMS
            for seed in c.seeds
            for sample in range(c.samples)
        ]
        usage = stored_usage(self.stored, ids)

        def stored_sim(model: str, problem: Problem, seed: int, sample: int) -> str | None:
            return state.sim_text(response_id(model, problem.problem_id, "sim", seed, sample))

        lines, executions, pending = tally(c, work, stored_sim)
        plan = Plan(
            c.base_url,
            estimate(lines, usage, c.max_tokens, endpoint),
            self.summary.skipped,
            executions,
            pending,
            spent(usage, endpoint),
            endpoint,
            c.max_cost,
        )
        check(plan, c.models, key_given=self._api_key is not None)
        return plan

    async def _preflight(self, problems: list[Problem], state: StoredState, work: list) -> None:
        """Check before spending; set up the budget when there is a cap. Raises PreflightFailed."""
        c = self.config
        plan = await asyncio.to_thread(self._plan, problems, state, work)
        if c.preflight:
            for line in plan.lines_out():
                self._notify(line)
            if plan.blockers:
                raise PreflightFailed("pre-flight: " + "; ".join(plan.blockers) + " (nothing was sent)")
        elif c.max_cost is not None and plan.unpriced_models():
            raise PreflightFailed(plan.cap_unpriced() + " (nothing was sent)")
        if c.max_cost is not None:
            self._budget = Budget(c.max_cost, plan.spent, plan.prices(), c.max_tokens)
            self.summary.spent_before = plan.spent

    # -- running --------------------------------------------------------------------------
    async def run(self) -> Summary:
        c = self.config
        start = time.perf_counter()
        if "code" in c.arms:
            try:
                require(c.unsafe_sandbox)  # before any request: a run that cannot sandbox pays for nothing
            except SandboxUnavailable as exc:
                raise PreflightFailed(f"code arm: {exc} (nothing was sent)") from None
        clean_leftovers(self.paths.responses)
        self.summary.recovered = recover(self.root, _write_rows, self.paths.stored)
        problems = self.problems()
        state = load_state(self.stored) if c.resume else StoredState.empty()
        work = list(self.units(problems, state))
        self.summary.planned = sum(len(arms) for *_, arms in work)
        if work and (c.preflight or c.max_cost is not None):
            await self._preflight(problems, state, work)
        self.write_problems(problems)
        with self._run_log() as manifest:
            log.info(
                "run %s: %d responses to collect, %d already stored",
                self.run_id,
                self.summary.planned,
                self.summary.skipped,
            )
            manifest("running")
            self._bar = tqdm(
                total=self.summary.planned,
                unit="resp",
                disable=not c.progress,
                dynamic_ncols=True,
                smoothing=0.05,
                desc="collect",
            )
            self._window = asyncio.Semaphore(c.concurrency)
            self._limits = RateLimits(c.requests_per_minute, c.tokens_per_minute, c.max_tokens)
            self._exec_pool = ThreadPoolExecutor(max_workers=max(1, c.exec_workers), thread_name_prefix="sandbox")
            self._client = ChatClient(c.base_url, self._api_key, timeout_s=c.timeout_s, pool=c.concurrency)
            self.writer = ShardWriter(
                self.folder, every=c.checkpoint_every, journal=True, target=self.paths.stored(self.folder)
            )
            status = "failed"
            try:
                await self._drain(work, state)
                status = "capped" if self._cap_reached() else "done"
            except RunAborted:
                status = "aborted"
                raise
            except asyncio.CancelledError:
                status = "interrupted"
                raise
            finally:
                await self._client.aclose()
                self._exec_pool.shutdown(wait=True, cancel_futures=True)
                self.writer.close()
                self._bar.close()
                self.summary.elapsed_s = time.perf_counter() - start
                if self._budget is not None:
                    self.summary.spent = self._budget.spent
                    self.summary.cap_reached = self._budget.reached
                    self.summary.unasked = self.summary.planned - self.summary.done - self.summary.pending
                for line in self.summary.lines():
                    log.info("%s", line)
                manifest(status)
        return self.summary

    @contextlib.contextmanager
    def _run_log(self):
        """The run's log file (`data/logs/ingest-<run>.log`) and its manifest (`run.json` in the run folder)."""
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.paths.logs / f"ingest-{self.run_id}.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        old_level, old_hooks = log.level, stamina.instrumentation.get_on_retry_hooks()
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        stamina.instrumentation.set_on_retry_hooks([])  # retries are logged here, not on stderr
        started = datetime.now(timezone.utc).isoformat()
        config = dataclasses.asdict(self.config)

        def manifest(status: str) -> None:
            doc = {
                "run_id": self.run_id,
                "status": status,
                "pid": os.getpid(),
                "started_at": started,
                "updated_at": datetime.now(timezone.utc).isoformat(),
                "evalhouse_version": __version__,
                "prompt_version": prompts.PROMPT_VERSION,
                "generator_version": GENERATOR_VERSION,
                "config": config,
                "summary": self.summary.as_dict(),
            }
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".run.json.tmp-{os.getpid()}"
            tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
            tmp.replace(self.folder / "run.json")

        try:
            yield manifest
        finally:
            log.removeHandler(handler)
            log.setLevel(old_level)
            stamina.instrumentation.set_on_retry_hooks(old_hooks)
            handler.close()

    async def _drain(self, work: list, state: StoredState) -> None:
        """Start a unit as soon as there is room; a few units per slot keep every slot busy."""
        room = asyncio.Semaphore(2 * self.config.concurrency + 2 * self.config.exec_workers)
        live: set[asyncio.Task] = set()
        failures: list[BaseException] = []

        def finished(task: asyncio.Task) -> None:
            live.discard(task)
            room.release()
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())

        try:
            for unit in work:
                await room.acquire()
                if failures or self._cap_reached():
                    break
                task = asyncio.create_task(self._unit(*unit, state))
                live.add(task)
                task.add_done_callback(finished)
            while live and not failures:
                await asyncio.wait(set(live), return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in live:
                task.cancel()
            if live:
                await asyncio.gather(*live, return_exceptions=True)
        if failures:
            raise failures[0]

    def _cap_reached(self) -> bool:
        return self._budget is not None and self._budget.reached

    async def _unit(
        self, model: str, problem: Problem, seed: int, sample: int, needed: frozenset[str], state: StoredState
    ) -> None:
        jobs = []
        if "nl" in needed:
            jobs.append(self._ask(model, problem, "nl", seed, sample))
        if needed & {"sim", "controlsim", "code"}:
            jobs.append(self._sim_chain(model, problem, seed, sample, needed, state))
        await _together(jobs)

    async def _sim_chain(self, model, problem, seed, sample, needed, state) -> None:
        """sim first; controlsim and code depend on the program in the sim answer."""
        if "sim" in needed:
            row = await self._ask(model, problem, "sim", seed, sample)
            if row is None:  # not asked: the cost cap was reached; controlsim and code wait for it
                return
            sim_text = None if row["error"] else row["response_text"]
        else:
            sim_text = state.sim_text(response_id(model, problem.problem_id, "sim", seed, sample))
        dependent = needed & set(DEPENDENT_ARMS)
        if sim_text is None:
            # The sim request failed: controlsim and code stay pending for a later run.
            self.summary.pending += len(dependent)
            self._advance(len(dependent))
            return
        code = extract_code(sim_text)
        jobs = []
        if "controlsim" in dependent:
            jobs.append(self._ask(model, problem, "controlsim", seed, sample, code=code))
        if "code" in dependent:
            jobs.append(self._execute(model, problem, seed, sample, code))
        await _together(jobs)

    def _base_row(self, model, problem: Problem, arm, seed, sample) -> dict[str, Any]:
        c = self.config
        return {
            "response_id": response_id(model, problem.problem_id, arm, seed, sample),
            "run_id": self.run_id,
            "source": "collector",
            "model": model,
            "problem_id": problem.problem_id,
            "kind": problem.kind,
            "digit": problem.digit,
            "arm": arm,
            "seed": seed,
            "sample": sample,
            "gold_answer": problem.gold_answer,
            "reported_correct": None,
            "prompt_version": prompts.PROMPT_VERSION,
            "extractor_version": EXTRACTOR_VERSION,
            "temperature": c.temperature,
            "max_tokens": c.max_tokens,
            "created_at": _now_us(),
            "error": None,
        }

    def _store(self, row: dict[str, Any]) -> None:
        self.writer.add(row)
        self.summary.done += 1
        if row.get("error_class"):
            self.summary.errors[row["error_class"]] += 1
            log.info("error row %s %s %s: %s", row["model"], row["arm"], row["response_id"], row["error"])
        self._advance(1)

    def _advance(self, n: int) -> None:
        if self._bar is not None and n:
            if self.summary.errors:
                self._bar.set_postfix_str(f"errors={sum(self.summary.errors.values())}", refresh=False)
            self._bar.update(n)

    # -- one request ----------------------------------------------------------------------
    async def _ask(self, model, problem: Problem, arm, seed, sample, code: str | None = None) -> dict[str, Any] | None:
        """Ask, store and return the row; None when the cost cap kept the request from being sent."""
        row = self._base_row(model, problem, arm, seed, sample)
        if arm == "controlsim" and code is None:
            # No program in the sim answer: record it, do not send a request.
            row.update(
                prompt="", response_text="", parse_error="no_code", verdict="parse_error", verdict_reason="no_code"
            )
            self._store(row)
            return row
        c = self.config
        messages = prompts.messages(arm, problem, code)
        row["prompt"] = messages[-1]["content"]
        body = payload(
            model, messages, seed=seed, temperature=c.temperature, max_tokens=c.max_tokens, provider=self._provider
        )
        data = json.dumps(body).encode()
        try:
            completion, error, attempts = await self._send(data, model)
        except CapReached:
            return None
        row["attempt"] = attempts
        if isinstance(error, EmptyAnswer):  # still empty after the last attempt: that is the model's answer
            completion, error = error.completion, None
        if isinstance(error, RunStopper):
            raise RunAborted(
                f"the endpoint refused the run (HTTP {error.status_code}: {error}); "
                "fix the key or the credit and run again: nothing stored is asked again"
            )
        if error is not None:
            row.update(
                error=str(error) or error.error_class, error_class=error.error_class, status_code=error.status_code
            )
        else:
            self._fill_completion(row, completion, problem)
        self._store(row)
        return row

    async def _send(self, body: bytes, model: str) -> tuple[Completion | None, APIError | None, int]:
        """Send with retries; returns (completion, None, attempts) or (None, last error, attempts).

        The first attempt goes out bare: most requests succeed at once, and setting up stamina's retry
        machinery costs about a tenth of the collector's CPU budget per response. When it fails, stamina
        takes over with that failure as its attempt 1, so waits and the attempt bound are stamina's.
        """
        c = self.config
        try:
            return await self._attempt(body, model), None, 1
        except RetryableError as exc:
            last = exc
        except APIError as exc:
            return None, exc, 1
        attempts = 1
        try:
            async for attempt in stamina.retry_context(
                on=self._retry_wait,
                attempts=c.max_attempts,
                timeout=None,
                wait_initial=c.retry_wait_initial,
                wait_max=c.retry_wait_max,
                wait_jitter=c.retry_wait_initial,
            ):
                with attempt:
                    if attempt.num == 1:
                        raise last
                    attempts = attempt.num
                    self.summary.retries[last.error_class] += 1
                    log.info("retry %d after %s: %s", attempts, last.error_class, last)
                    try:
                        completion = await self._attempt(body, model)
                    except APIError as exc:
                        last = exc
                        raise
        except APIError as exc:
            return None, exc, attempts
        return completion, None, attempts

    async def _attempt(self, body: bytes, model: str) -> Completion:
        """One request: within the rate limits and the cost cap, holding one slot of the window while in flight."""
        limits = self._limits
        if limits.active:
            reserved = await limits.take(len(body))
        async with self._window:
            completion = await self._within_budget(body, model)
        if limits.active:
            used = (completion.prompt_tokens or 0) + (completion.completion_tokens or 0)
            limits.settle(
                reserved, used if completion.completion_tokens is not None else None, completion.completion_tokens
            )
        return completion

    async def _within_budget(self, body: bytes, model: str) -> Completion:
        """Send, with the most it can cost reserved first when there is a cap (CapReached: not sent)."""
        budget = self._budget
        if budget is None:
            self.summary.requests += 1
            return await self._client.complete(body)
        bound = await budget.reserve(model, len(body))
        completion, answered = None, False
        try:
            self.summary.requests += 1
            completion = await self._client.complete(body)
            answered = True
            return completion
        except EmptyAnswer as exc:
            completion, answered = exc.completion, True
            raise
        except APIError as exc:
            # An HTTP error is not billed; a body cut off in transit (MalformedBody) may have been.
            answered = exc.status_code is not None and not isinstance(exc, MalformedBody)
            raise
        finally:
            budget.settle(model, bound, completion, answered)

    def _retry_wait(self, exc: Exception) -> bool | float:
        """stamina's hook: retry only what can succeed later; a Retry-After is the minimum wait."""
        if not isinstance(exc, RetryableError):
            return False
        if exc.retry_after is None:
            return True
        if exc.retry_after > self.config.max_retry_wait:
            return False
        return exc.retry_after + random.uniform(0, self.config.retry_wait_initial)

    def _fill_completion(self, row: dict[str, Any], completion: Completion, problem: Problem) -> None:
        row.update(
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
        s = self.summary
        s.prompt_tokens += completion.prompt_tokens or 0
        s.completion_tokens += completion.completion_tokens or 0
        s.cost += completion.cost or 0.0
        self._fill_grade(row, _grade(problem, completion))

    @staticmethod
    def _fill_grade(row: dict[str, Any], graded: Graded) -> None:
        row.update(
            parsed_answer=graded.parsed_answer,
            parse_error=graded.parse_error,
            verdict=graded.verdict,
            verdict_reason=graded.verdict_reason,
        )

    # -- the code arm ---------------------------------------------------------------------
    async def _execute(self, model, problem: Problem, seed, sample, code: str | None) -> None:
        row = self._base_row(model, problem, "code", seed, sample)
        row["prompt"] = code or ""
        if code is None:
            row.update(
                response_text="",
                parse_error="no_code",
                verdict="parse_error",
                verdict_reason="no_code",
                exec_status="no_code",
            )
            self._store(row)
            return
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._exec_pool, run_code, code, Limits(unsafe=self.config.unsafe_sandbox))
        self.summary.executions += 1
        row.update(
            response_text=result.stdout,
            latency_ms=result.duration_ms,
            exec_status=result.status,
            exec_exit_code=result.exit_code,
            exec_limit=result.limit,
            exec_stderr=result.stderr[-2000:],
            exec_isolation=result.isolation,
        )
        if not result.ok:
            reason = result.reason or f"execution {result.status}" + (
                f" ({result.limit} limit)" if result.limit else ""
            )
            self._fill_grade(row, Graded(None, "exec_failed", "parse_error", reason))
        else:
            self._fill_grade(row, grade_printed(problem.kind, problem.instance, result.stdout))
        self._store(row)


async def _together(jobs: list) -> None:
    """Run jobs concurrently; if one fails, cancel the others (gather would leave them running)."""
    if len(jobs) == 1:
        await jobs[0]
        return
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _grade(problem: Problem, completion: Completion) -> Graded:
    return grade_reply(problem.kind, problem.instance, completion.text, completion.finish_reason, completion.reasoning)


def _write_rows(rows: list[dict[str, Any]], folder: Path | str, stem: str) -> None:
    write_atomic(table_from_rows(rows, RESPONSE_SCHEMA), folder, stem)


def collect(
    config: RunConfig,
    paths: Paths,
    api_key: str | None,
    run_id: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> tuple[str, Summary]:
    """Run a collection to the end (or to the cost cap). SIGTERM stops it as Ctrl-C does: what landed is stored.

    `notify(line)` receives the pre-flight's report.
    """
    collector = Collector(config, paths, api_key, run_id, notify)

    async def main() -> Summary:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await collector.run()

    try:
        summary = asyncio.run(main())
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise Interrupted(f"interrupted: {collector.summary.done} responses stored; run again to resume") from None
    return collector.run_id, summary
