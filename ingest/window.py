"""The request window: a fixed number of requests in flight, paced, capped in cost, retried.

A request takes one slot of the window only while it is on the wire: each finished request frees its
slot at once (one slow answer never holds up a batch), and one waiting out a backoff holds none. Before
it takes a slot it waits for room under the client-side rate limits (`ratelimit.py`); holding its slot,
it reserves the most it can cost under the cap (`budget.py`). Failures that can succeed later are
retried by stamina with jittered exponential waits, a Retry-After being the least wait; a Retry-After
longer than `max_retry_wait` is not waited out.

The window sees request bodies as bytes and answers as `Completion`s or `APIError`s: it knows nothing
of any provider's wire format.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import stamina

from .budget import Budget
from .errors import APIError, RetryableError
from .ratelimit import Limits
from .reply import Completion

log = logging.getLogger("evalhouse.collector.window")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_retry_wait: float = 300.0  # a Retry-After longer than this is not waited out
    wait_initial: float = 1.0
    wait_max: float = 60.0

    def wait(self, exc: Exception) -> bool | float:
        """stamina's hook: retry only what can succeed later; a Retry-After is the least wait."""
        if not isinstance(exc, RetryableError):
            return False
        if exc.retry_after is None:
            return True
        if exc.retry_after > self.max_retry_wait:
            return False
        return exc.retry_after + random.uniform(0, self.wait_initial)


@dataclass(frozen=True)
class Outcome:
    """How one request ended: a completion, or the last error; and how many attempts it took."""

    completion: Completion | None
    error: APIError | None
    attempts: int


class Window:
    """Sends request bodies through `send`, `size` at a time. Counts requests sent and retries by class."""

    def __init__(
        self,
        send: Callable[[bytes], Awaitable[Completion]],
        size: int,
        policy: RetryPolicy,
        limits: Limits,
        budget: Budget | None = None,
    ):
        self._send, self._slots, self.policy = send, asyncio.Semaphore(size), policy
        self._limits, self._budget = limits, budget
        self.requests = 0
        self.retries: Counter = Counter()

    async def ask(self, body: bytes, model: str) -> Outcome:
        """Send with retries. Raises `CapReached` when the cost cap kept the request from being sent.

        The first attempt goes out bare: most requests succeed at once, and setting up stamina's retry
        machinery costs about a tenth of the collector's CPU budget per response. When it fails, stamina
        takes over with that failure as its attempt 1, so waits and the attempt bound are stamina's.
        """
        try:
            return Outcome(await self._attempt(body, model), None, 1)
        except RetryableError as exc:
            last = exc
        except APIError as exc:
            return Outcome(None, exc, 1)
        attempts, p = 1, self.policy
        try:
            async for attempt in stamina.retry_context(
                on=p.wait,
                attempts=p.max_attempts,
                timeout=None,
                wait_initial=p.wait_initial,
                wait_max=p.wait_max,
                wait_jitter=p.wait_initial,
            ):
                with attempt:
                    if attempt.num == 1:
                        raise last
                    attempts = attempt.num
                    self.retries[last.error_class] += 1
                    log.info("retry %d after %s: %s", attempts, last.error_class, last)
                    try:
                        completion = await self._attempt(body, model)
                    except APIError as exc:
                        last = exc
                        raise
        except APIError as exc:
            return Outcome(None, exc, attempts)
        return Outcome(completion, None, attempts)

    async def _attempt(self, body: bytes, model: str) -> Completion:
        """One request: within the rate limits and the cost cap, holding one slot while in flight."""
        limits = self._limits
        if limits.active:
            reserved = await limits.take(len(body))
        async with self._slots:
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
            self.requests += 1
            return await self._send(body)
        bound = await budget.reserve(model, len(body))
        completion, answered = None, False
        try:
            self.requests += 1
            completion = await self._send(body)
            answered = True
            return completion
        except APIError as exc:
            completion, answered = exc.completion, not exc.maybe_billed
            raise
        finally:
            budget.settle(model, bound, completion, answered)
