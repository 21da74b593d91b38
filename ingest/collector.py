"""Collecting responses: plan what is missing, ask for it through a sliding window, store each answer.

A fixed number of requests is in flight; each finished request frees its slot at once, so one slow
answer never holds up a batch. Every answer is handed to the shard writer as it lands. `response_id`
is a hash of (model, problem, arm, seed, sample), so a second run asks only for what is not stored.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import stamina
from tqdm import tqdm

from evalhouse.config import Paths

from . import prompts
from .client import APIError, ChatClient, Completion, RetryableError, payload
from .extract import extract_code, parse_printed
from .grading import Graded, grade_text, grade_value
from .problems import Problem, generate
from .sandbox import Limits, run_code
from .shards import ShardWriter, clean_leftovers, table_from_rows, write_atomic
from .store import StoredState, load_state, problems_schema

log = logging.getLogger("evalhouse.collector")


@dataclass
class RunConfig:
    """Everything that defines a collection; an experiment spec is this, as TOML."""

    models: list[str]
    kinds: list[str]
    digits: list[int]
    n: int
    seeds: list[int] = field(default_factory=lambda: [0])
    arms: list[str] = field(default_factory=lambda: list(prompts.ARMS))
    base_url: str = "https://openrouter.ai/api/v1"
    concurrency: int = 16
    problem_seed: int = 0
    samples: int = 1
    temperature: float = 0.0
    max_tokens: int = 4096
    checkpoint_every: int = 200
    exec_workers: int = 2
    retry_errors: bool = False
    resume: bool = True
    max_attempts: int = 6
    timeout_s: float = 120.0
    progress: bool = True


def response_id(model: str, problem_id: str, arm: str, seed: int, sample: int) -> str:
    return hashlib.sha256(f"{model}|{problem_id}|{arm}|{seed}|{sample}".encode()).hexdigest()[:32]


def make_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"run_{stamp}_{random.getrandbits(32):08x}"


def _retry_hook(exc: Exception) -> bool | float:
    """Retry only what can succeed later; Retry-After is honoured as the minimum wait."""
    if not isinstance(exc, RetryableError):
        return False
    if exc.retry_after is not None:
        return exc.retry_after + random.uniform(0, 0.25)
    return True


@dataclass
class Summary:
    done: int = 0
    errors: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    requests: int = 0
    executions: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        rate = self.done / self.elapsed_s if self.elapsed_s else 0.0
        errors = ", ".join(f"{k}={v}" for k, v in sorted(self.errors.items())) or "none"
        return [
            f"stored {self.done} responses ({self.requests} requests, {self.executions} code runs), "
            f"{self.skipped} already stored",
            f"errors: {errors}",
            f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion; cost {self.cost:.4f}",
            f"elapsed {self.elapsed_s:.1f}s, {rate:.1f} responses/s",
        ]


class Collector:
    def __init__(self, config: RunConfig, paths: Paths, api_key: str | None, run_id: str | None = None):
        self.config, self.paths, self.api_key = config, paths, api_key
        self.run_id = run_id or make_run_id()
        self.summary = Summary()
        self.writer = ShardWriter(
            paths.responses / "source=collector" / f"run_id={self.run_id}", every=config.checkpoint_every
        )
        self._bar: tqdm | None = None

    # -- planning -------------------------------------------------------------------------
    def problems(self) -> list[Problem]:
        c = self.config
        return list(generate(c.kinds, c.digits, c.n, c.problem_seed))

    def write_problems(self, problems: list[Problem]) -> Path:
        """Store the instances once per plan (same plan, same file)."""
        ids = hashlib.sha256("|".join(p.problem_id for p in problems).encode()).hexdigest()[:16]
        target = self.paths.problems / f"problems-{ids}.parquet"
        if not target.exists():
            rows = [p.as_row(self.config.problem_seed) for p in problems]
            write_atomic(table_from_rows(rows, problems_schema()), self.paths.problems, f"problems-{ids}")
        return target

    def units(self, problems: list[Problem], state: StoredState) -> Iterator[tuple[str, Problem, int, int, set[str]]]:
        """(model, problem, seed, sample, arms still needed) for every cell with work left."""
        c = self.config
        for model in c.models:
            for seed in c.seeds:
                for sample in range(c.samples):
                    for problem in problems:
                        needed = {
                            arm
                            for arm in c.arms
                            if not state.has(response_id(model, problem.problem_id, arm, seed, sample), c.retry_errors)
                        }
                        if needed:
                            yield model, problem, seed, sample, needed
                        self.summary.skipped += len(c.arms) - len(needed)

    # -- running --------------------------------------------------------------------------
    async def run(self) -> Summary:
        c = self.config
        start = time.perf_counter()
        clean_leftovers(self.paths.responses)
        problems = self.problems()
        self.write_problems(problems)
        state = load_state(self.paths.responses) if c.resume else StoredState.empty()
        work = list(self.units(problems, state))
        total = sum(len(arms) for *_, arms in work)
        self._bar = tqdm(total=total, unit="resp", disable=not c.progress, dynamic_ncols=True, smoothing=0.05)
        self._sem = asyncio.Semaphore(c.concurrency)
        self._exec_pool = ThreadPoolExecutor(max_workers=max(1, c.exec_workers))
        self._client = ChatClient(c.base_url, self.api_key, timeout_s=c.timeout_s, pool=c.concurrency)
        try:
            await self._drain(work, state)
        finally:
            await self._client.aclose()
            self._exec_pool.shutdown(wait=True)
            self.writer.close()
            self._bar.close()
        self.summary.elapsed_s = time.perf_counter() - start
        return self.summary

    async def _drain(self, work: list, state: StoredState) -> None:
        """Keep at most a few units per slot alive; start a new one as soon as one ends."""
        pending: set[asyncio.Task] = set()
        limit = self.config.concurrency * 2
        for unit in work:
            if len(pending) >= limit:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            pending.add(asyncio.create_task(self._unit(*unit, state)))
        if pending:
            for task in asyncio.as_completed(pending):
                await task

    async def _unit(self, model: str, problem: Problem, seed: int, sample: int, needed: set[str], state: StoredState) -> None:
        jobs = []
        if "nl" in needed:
            jobs.append(self._ask(model, problem, "nl", seed, sample))
        if needed & {"sim", "controlsim", "code"}:
            jobs.append(self._sim_chain(model, problem, seed, sample, needed, state))
        await asyncio.gather(*jobs)

    async def _sim_chain(self, model, problem, seed, sample, needed, state) -> None:
        """sim first; controlsim and code depend on the program in the sim answer."""
        if "sim" in needed:
            row = await self._ask(model, problem, "sim", seed, sample)
            sim_text = None if row["error"] else row["response_text"]
            sim_ok = row["error"] is None
        else:
            sim_text = state.sim_text(response_id(model, problem.problem_id, "sim", seed, sample))
            sim_ok = sim_text is not None
        if not sim_ok:
            # The sim request failed: controlsim and code stay pending for a later run.
            self._advance(len(needed & {"controlsim", "code"}))
            return
        code = extract_code(sim_text)
        jobs = []
        if "controlsim" in needed:
            jobs.append(self._ask(model, problem, "controlsim", seed, sample, code=code))
        if "code" in needed:
            jobs.append(self._execute(model, problem, seed, sample, code))
        await asyncio.gather(*jobs)

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
            "temperature": c.temperature,
            "max_tokens": c.max_tokens,
            "created_at": datetime.now(timezone.utc),
            "error": None,
        }

    def _store(self, row: dict[str, Any]) -> None:
        self.writer.add(row)
        self.summary.done += 1
        if row.get("error_class"):
            self.summary.errors[row["error_class"]] += 1
        self._advance(1)

    def _advance(self, n: int) -> None:
        if self._bar is not None and n:
            self._bar.update(n)
            if self.summary.errors:
                self._bar.set_postfix(errors=sum(self.summary.errors.values()), refresh=False)

    async def _ask(self, model, problem: Problem, arm, seed, sample, code: str | None = None) -> dict[str, Any]:
        row = self._base_row(model, problem, arm, seed, sample)
        if arm == "controlsim" and code is None:
            # No program in the sim answer: record it, do not send a request.
            row.update(prompt="", response_text="", parse_error="no_code", verdict="parse_error", verdict_reason="no_code")
            self._store(row)
            return row
        c = self.config
        messages = prompts.messages(arm, problem, code)
        row["prompt"] = messages[-1]["content"]
        body = payload(model, messages, seed=seed, temperature=c.temperature, max_tokens=c.max_tokens)
        attempts = 0
        try:
            async for attempt in stamina.retry_context(
                on=_retry_hook, attempts=c.max_attempts, timeout=None, wait_initial=0.5, wait_max=30.0, wait_jitter=0.5
            ):
                with attempt:
                    attempts = attempt.num
                    async with self._sem:
                        self.summary.requests += 1
                        completion = await self._client.complete(body)
        except APIError as exc:
            row.update(
                error=str(exc) or exc.error_class,
                error_class=exc.error_class,
                status_code=exc.status_code,
                attempt=attempts,
            )
            self._store(row)
            return row
        row["attempt"] = attempts
        self._fill_completion(row, completion, problem)
        self._store(row)
        return row

    def _fill_completion(self, row: dict[str, Any], completion: Completion, problem: Problem) -> None:
        row.update(
            response_text=completion.text or "",
            latency_ms=completion.latency_ms,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=completion.cost,
            provider_model=completion.provider_model,
            finish_reason=completion.finish_reason,
        )
        self.summary.prompt_tokens += completion.prompt_tokens or 0
        self.summary.completion_tokens += completion.completion_tokens or 0
        self.summary.cost += completion.cost or 0.0
        graded = grade_text(problem.kind, problem.instance, completion.text)
        if graded.parse_error and completion.finish_reason == "length":
            graded = Graded(None, "truncated", "parse_error", "answer cut off by max_tokens")
        self._fill_grade(row, graded)

    @staticmethod
    def _fill_grade(row: dict[str, Any], graded: Graded) -> None:
        row.update(
            parsed_answer=graded.parsed_answer,
            parse_error=graded.parse_error,
            verdict=graded.verdict,
            verdict_reason=graded.verdict_reason,
        )

    async def _execute(self, model, problem: Problem, seed, sample, code: str | None) -> None:
        row = self._base_row(model, problem, "code", seed, sample)
        row["prompt"] = code or ""
        if code is None:
            row.update(response_text="", parse_error="no_code", verdict="parse_error", verdict_reason="no_code", exec_status="no_code")
            self._store(row)
            return
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._exec_pool, run_code, code, Limits())
        self.summary.executions += 1
        row.update(
            response_text=result.stdout,
            latency_ms=result.duration_ms,
            exec_status=result.status,
            exec_exit_code=result.exit_code,
            exec_limit=result.limit,
            exec_stderr=result.stderr[-2000:],
        )
        if not result.ok:
            reason = f"execution {result.status}" + (f" ({result.limit} limit)" if result.limit else "")
            self._fill_grade(row, Graded(None, "exec_failed", "parse_error", reason))
        else:
            value = parse_printed(result.stdout)
            if value is None:
                self._fill_grade(row, Graded(None, "no_output", "parse_error", "program printed nothing"))
            else:
                self._fill_grade(row, grade_value(problem.kind, problem.instance, value))
        self._store(row)


def collect(config: RunConfig, paths: Paths, api_key: str | None, run_id: str | None = None) -> tuple[str, Summary]:
    collector = Collector(config, paths, api_key, run_id)
    summary = asyncio.run(collector.run())
    return collector.run_id, summary
