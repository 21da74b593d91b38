"""Collecting responses: plan what is missing, ask for it through the request window, store each answer.

A run, top to bottom (`Collector.run`):

1. Recover what a killed run left (its journal becomes shards) and read what is stored (`store.py`).
2. List the units with work left (`work.py`); before the first request, a pre-flight (`plan.py`) checks
   the key, the model ids and the credit left against an estimate of the cost.
3. Start units as the window has room. A unit is started only once its bucket is claimed (`claims.py`),
   so two runs over one data folder share the plan instead of paying twice.
4. Each request arm (`nl`, `sim`, `controlsim`) is built by the provider (`providers/`), sent through
   the window (`window.py`: slots, pacing, cost cap, retries) and graded (`rows.py`); the code arm runs
   the sim answer's program in the sandbox (`execution.py`).
5. Every row is journaled the moment it lands and reaches a Parquet shard at the next checkpoint
   (`shards.py`, `journal.py`), so a killed run loses nothing it received; a full disk stops the run
   with what was journaled kept.

`response_id` is a hash of (model, problem, arm, seed, sample): a second run asks only for what is not
stored yet (and, with `retry_errors`, for what is stored as an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evalhouse.config import Paths
from evalhouse.files import DiskFull, clean_leftovers
from evalhouse.vocabulary import CODE_ARMS, DEPENDENT_ARMS, response_id

from . import prompts, rows, work
from .answers import extract_code
from .budget import Budget, CapReached
from .claims import Claims, Snapshot, bucket_of
from .client import ChatClient, probe, probe_now
from .endpoint import Endpoint
from .errors import RunStopper
from .execution import execute
from .journal import recover
from .plan import Plan, check, make_plan
from .problems import Problem
from .providers import make_provider
from .ratelimit import Limits as RateLimits
from .run_config import RunConfig, make_run_id
from .runlog import others_running, run_records
from .sandbox import SandboxUnavailable, require
from .shards import RESPONSE_SCHEMA, ShardWriter, table_from_rows, write_shard
from .store import StoredState, load_state
from .summary import Interrupted, PreflightFailed, RunAborted, Summary
from .window import RetryPolicy, Window
from .work import Unit

__all__ = [
    "Collector",
    "Interrupted",
    "PreflightFailed",
    "RunAborted",
    "RunConfig",
    "Summary",
    "collect",
    "response_id",
]

log = logging.getLogger("evalhouse.collector")
Buckets = dict[int, list[Unit]]


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
        self.provider = make_provider(config)
        self.root = paths.responses / "source=collector"  # the journal, claims and run manifests: always local
        self.folder = self.root / f"run_id={self.run_id}"
        self.stored = paths.stored(paths.responses)  # where shards are: this folder or the bucket (s3://…)
        self._budget: Budget | None = None
        self._bar: tqdm | None = None

    # -- planning -------------------------------------------------------------------------
    def plan(self) -> Plan:
        """What a run would ask and what it would cost, checked against the endpoint; sends no completion."""
        c = self.config
        instances = work.problems(c)
        state = self._read_state()
        units, self.summary.skipped = work.units(c, instances, state)
        endpoint = probe_now(self.provider, c.base_url, self._api_key, timeout_s=min(c.timeout_s, 30.0))
        return self._plan(instances, state, units, endpoint)

    def _plan(self, instances: list[Problem], state: StoredState, units: list[Unit], endpoint: Endpoint) -> Plan:
        c = self.config
        plan = make_plan(c, self.stored, instances, state, units, self.summary.skipped, endpoint)
        check(plan, c.models, key_given=self._api_key is not None)
        return plan

    async def _preflight(self, instances: list[Problem], state: StoredState, units: list[Unit]) -> None:
        """Check before spending; set up the budget when there is a cap. Raises PreflightFailed."""
        c = self.config
        endpoint = await probe(self.provider, c.base_url, self._api_key, timeout_s=min(c.timeout_s, 30.0))
        plan = await asyncio.to_thread(self._plan, instances, state, units, endpoint)
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

    def _read_state(self) -> StoredState:
        return load_state(self.stored) if self.config.resume else StoredState.empty()

    # -- running --------------------------------------------------------------------------
    async def run(self) -> Summary:
        c, s = self.config, self.summary
        start = time.perf_counter()
        if set(c.arms) & set(CODE_ARMS):  # before any request: a run that cannot sandbox pays for nothing
            try:
                require(c.unsafe_sandbox)
            except SandboxUnavailable as exc:
                raise PreflightFailed(f"code arm: {exc} (nothing was sent)") from None
        clean_leftovers(self.paths.responses)
        self.claims = Claims(self.root / ".claims")
        try:
            self._seen = self.claims.snapshot()  # then what dead runs left, then the state (see claims.py)
            s.recovered = recover(self.root, _write_rows, self.paths.stored)
            self.instances = work.problems(c)
            self._state = self._read_state()
            units, s.skipped = work.units(c, self.instances, self._state)
            s.planned = _responses(units)
            if units and (c.preflight or c.max_cost is not None):
                await self._preflight(self.instances, self._state, units)
            work.write_problems(self.paths, c, self.instances)
            with run_records(self.paths.logs, self.folder, self.run_id, c, s) as manifest:
                log.info("run %s: %d responses to collect, %d already stored", self.run_id, s.planned, s.skipped)
                manifest("running")
                status = "failed"
                self._open()
                try:
                    left = await self._drain(_by_bucket(units))
                    if left:  # a second look, now that this run's own work is done: their holders may be gone
                        left = await self._drain(left)
                    self._leave_to_others(left)
                    status = "capped" if self._cap_reached() else "done"
                except RunAborted:
                    status = "aborted"
                    raise
                except asyncio.CancelledError:
                    status = "interrupted"
                    raise
                finally:
                    try:
                        await self._close(start, failing=sys.exc_info()[1] is not None)
                    finally:
                        manifest(status)
        finally:
            self.claims.close()
        return s

    def _open(self) -> None:
        """The run's machinery: progress bar, window, sandbox pool, shard writer."""
        c = self.config
        self._bar = tqdm(
            total=self.summary.planned,
            unit="resp",
            disable=not c.progress,
            dynamic_ncols=True,
            smoothing=0.05,
            desc="collect",
        )
        self._client = ChatClient(self.provider, c.base_url, self._api_key, timeout_s=c.timeout_s, pool=c.concurrency)
        self.window = Window(
            self._client.complete,
            c.concurrency,
            RetryPolicy(c.max_attempts, c.max_retry_wait, c.retry_wait_initial, c.retry_wait_max),
            RateLimits(c.requests_per_minute, c.tokens_per_minute, c.max_tokens),
            self._budget,
        )
        self._exec_pool = ThreadPoolExecutor(max_workers=max(1, c.exec_workers), thread_name_prefix="sandbox")
        self.writer = ShardWriter(
            self.folder, every=c.checkpoint_every, journal=True, target=self.paths.stored(self.folder)
        )

    async def _close(self, start: float, failing: bool) -> None:
        """Tear the machinery down; when the run is already failing, a full disk at the last shard is only logged."""
        s = self.summary
        try:
            await self._client.aclose()
            self._exec_pool.shutdown(wait=True, cancel_futures=True)
            try:
                self.writer.close()
            except DiskFull:
                if not failing:
                    raise
                log.error("the disk is full: the last rows wait in the journal for the next run")
        finally:
            self._bar.close()
            s.requests, s.retries = self.window.requests, self.window.retries
            s.elapsed_s = time.perf_counter() - start
            if self._budget is not None:
                s.spent, s.cap_reached = self._budget.spent, self._budget.reached
                s.unasked = s.planned - s.done - s.pending
            for line in s.lines():
                log.info("%s", line)

    async def _drain(self, buckets: Buckets) -> Buckets:
        """Start the units of every bucket this run can claim as the window has room; wait for them.

        Returns the buckets another live run holds. A few units per slot keep every slot busy.
        """
        room = asyncio.Semaphore(2 * self.config.concurrency + 2 * self.config.exec_workers)
        live: set[asyncio.Task] = set()
        failures: list[BaseException] = []
        held: Buckets = {}

        def finished(task: asyncio.Task) -> None:
            live.discard(task)
            room.release()
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())

        order = sorted(buckets)
        try:
            for i, bucket in enumerate(order):
                moved = self.claims.claim(bucket, self._seen)
                if moved is None:
                    held[bucket] = buckets[bucket]
                    continue
                if moved and self.config.resume:  # worked on by a run that has ended since the state was read
                    # every bucket not started yet: those ahead, and those left to others so far (their
                    # second look counts moves from this new reading, so it must find their units in it)
                    buckets = await self._read_again(buckets, [*order[i:], *held])
                    held = {b: buckets[b] for b in held}
                for unit in buckets.get(bucket, []):
                    await room.acquire()
                    if failures or self._cap_reached():
                        break
                    task = asyncio.create_task(self._unit(unit, self._state))
                    live.add(task)
                    task.add_done_callback(finished)
                if failures or self._cap_reached():
                    break
            while live and not failures:
                await asyncio.wait(set(live), return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in live:
                task.cancel()
            if live:
                await asyncio.gather(*live, return_exceptions=True)
        if failures:
            raise failures[0]
        return held

    async def _read_again(self, buckets: Buckets, ahead: list[int]) -> Buckets:
        """The units of the buckets `ahead`, from the stored state read anew (dead runs' journals recovered first).

        What another run stored meanwhile is no longer this run's to collect.
        """

        def read() -> tuple[Snapshot, StoredState]:
            seen = self.claims.snapshot()
            recover(self.root, _write_rows, self.paths.stored)
            return seen, load_state(self.stored)

        self._seen, self._state = await asyncio.to_thread(read)
        fresh = _by_bucket(work.units(self.config, self.instances, self._state)[0])
        done = sum(_responses(buckets.get(b, [])) - _responses(fresh.get(b, [])) for b in ahead)
        self.summary.planned -= done
        self.summary.skipped += done
        self._shrink_bar(done)
        return {**buckets, **{b: fresh.get(b, []) for b in ahead}}

    def _leave_to_others(self, held: Buckets) -> None:
        left = sum(_responses(units) for units in held.values())
        if left:
            self.summary.planned -= left
            self.summary.left_to_others = left
            self.summary.others = others_running(self.root, self.run_id)
            self._shrink_bar(left)
            log.info("left %d responses to other live runs: %s", left, self.summary.others)

    def _shrink_bar(self, n: int) -> None:
        if self._bar is not None and n:
            self._bar.total -= n
            self._bar.refresh()

    def _cap_reached(self) -> bool:
        return self._budget is not None and self._budget.reached

    # -- one unit: its arms ---------------------------------------------------------------
    async def _unit(self, unit: Unit, state: StoredState) -> None:
        jobs = []
        if "nl" in unit.needed:
            jobs.append(self._ask(unit, "nl"))
        if unit.needed & {"sim", "controlsim", "code"}:
            jobs.append(self._sim_chain(unit, state))
        await _together(jobs)

    async def _sim_chain(self, unit: Unit, state: StoredState) -> None:
        """sim first; controlsim and code depend on the program in the sim answer."""
        if "sim" in unit.needed:
            row = await self._ask(unit, "sim")
            if row is None:  # not asked: the cost cap was reached; controlsim and code wait for it
                return
            sim_text = None if row["error"] else row["response_text"]
        else:
            sim_text = state.sim_text(unit.response_id("sim"))
        dependent = unit.needed & set(DEPENDENT_ARMS)
        if sim_text is None:
            # The sim request failed: controlsim and code stay pending for a later run.
            self.summary.pending += len(dependent)
            self._advance(len(dependent))
            return
        code = extract_code(sim_text)
        jobs = []
        if "controlsim" in dependent:
            jobs.append(self._ask(unit, "controlsim", code=code))
        if "code" in dependent:
            jobs.append(self._execute(unit, code))
        await _together(jobs)

    async def _ask(self, unit: Unit, arm: str, code: str | None = None) -> dict[str, Any] | None:
        """Ask, store and return the row; None when the cost cap kept the request from being sent."""
        c = self.config
        row = rows.base_row(self.run_id, c, unit, arm)
        if arm == "controlsim" and code is None:  # no program in the sim answer: recorded, not asked
            row.update(prompt="", **rows.no_code_fields())
            self._store(row)
            return row
        messages = prompts.messages(arm, unit.problem, code)
        row["prompt"] = messages[-1]["content"]
        request = self.provider.build_request(
            unit.model, messages, seed=unit.seed, temperature=c.temperature, max_tokens=c.max_tokens
        )
        try:
            outcome = await self.window.ask(json.dumps(request).encode(), unit.model)
        except CapReached:
            return None
        completion, error = outcome.completion, outcome.error
        if error is not None and error.completion is not None:  # still empty at the last attempt: the answer
            completion, error = error.completion, None
        if isinstance(error, RunStopper):
            raise RunAborted(
                f"the endpoint refused the run (HTTP {error.status_code}: {error}); "
                "fix the key or the credit and run again: nothing stored is asked again"
            )
        row["attempt"] = outcome.attempts
        if error is not None:
            row.update(rows.error_fields(error))
        else:
            row.update(rows.completion_fields(completion))
            row.update(rows.grade_fields(rows.grade_completion(unit.problem, completion)))
            self.summary.prompt_tokens += completion.prompt_tokens or 0
            self.summary.completion_tokens += completion.completion_tokens or 0
            self.summary.cost += completion.cost or 0.0
        self._store(row)
        return row

    async def _execute(self, unit: Unit, code: str | None) -> None:
        row = rows.base_row(self.run_id, self.config, unit, "code")
        row["prompt"] = code or ""
        if code is None:
            row.update(rows.no_code_fields(), exec_status="no_code")
        else:
            row.update(await execute(self._exec_pool, unit.problem, code, self.config.unsafe_sandbox))
            self.summary.executions += 1
        self._store(row)

    # -- the writer side ------------------------------------------------------------------
    def _store(self, row: dict[str, Any]) -> None:
        self.writer.add(row)  # journaled before it returns; a full disk raises DiskFull here
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


def _by_bucket(units: Iterable[Unit]) -> Buckets:
    buckets: Buckets = defaultdict(list)
    for unit in units:
        buckets[bucket_of(unit.key)].append(unit)
    return dict(buckets)


def _responses(units: Iterable[Unit]) -> int:
    return sum(len(u.needed) for u in units)


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


def _write_rows(rows: list[dict[str, Any]], folder: Path | str, stem: str) -> None:
    write_shard(table_from_rows(rows, RESPONSE_SCHEMA), folder, stem)


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
