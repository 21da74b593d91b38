"""Client-side requests/min and tokens/min limits, so a run stays under a provider's quota instead of
learning it from 429s.

Both are token buckets. The tokens bucket may go into debt: a request reserves an estimate before it is
sent (its prompt, and a completion as long as the ones seen so far) and settles the difference once the
provider reports its usage. aiolimiter's leaky bucket has no way to settle afterwards, hence this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable


class Bucket:
    """`per_minute` units a minute, paced: at most a second's worth (and at least one unit) at once.

    A bucket that held a whole minute could let through two minutes' worth within one sliding minute;
    a second's worth keeps any 60-second window within the limit. Waiters are served in order.
    """

    def __init__(self, per_minute: float):
        if per_minute <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()
        self._refunded = asyncio.Event()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self._stamp) * self.rate)
        self._stamp = now

    async def take(self, amount: float | Callable[[], float] = 1.0) -> float:
        """Wait until `amount` units are free, take them and return how many were taken.

        `amount` may be a function, asked again whenever this waiter gets its turn, so an estimate made
        while waiting uses what was learned meanwhile.
        """
        async with self._lock:
            self._refill()
            while True:
                want = min(amount() if callable(amount) else amount, self.capacity)
                if self.level >= want:
                    break
                self._refunded.clear()
                with contextlib.suppress(asyncio.TimeoutError):  # refilled in time, unless a refund came first
                    await asyncio.wait_for(self._refunded.wait(), (want - self.level) / self.rate)
                self._refill()
            self.level -= want
            return want

    def settle(self, delta: float) -> None:
        """Charge (positive) or refund (negative) the difference between a reservation and the truth."""
        self._refill()
        self.level = min(self.capacity, self.level - delta)
        if delta < 0:
            self._refunded.set()


class Limits:
    """The run's optional requests/min and tokens/min limits, applied together."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None, max_tokens: int):
        self.requests = Bucket(requests_per_minute) if requests_per_minute else None
        self.tokens = Bucket(tokens_per_minute) if tokens_per_minute else None
        self._completion_mean = float(min(max_tokens, 512))
        self._seen = 0

    @property
    def active(self) -> bool:
        return self.requests is not None or self.tokens is not None

    def estimate(self, prompt_chars: int) -> float:
        """Tokens a request is expected to use: ~4 characters a prompt token, plus a typical completion."""
        return prompt_chars / 4 + self._completion_mean

    async def take(self, prompt_chars: int) -> float:
        """Wait for room for one request; returns the tokens reserved for it."""
        if self.requests is not None:
            await self.requests.take(1)
        if self.tokens is None:
            return 0.0
        return await self.tokens.take(lambda: self.estimate(prompt_chars))

    def settle(self, reserved: float, used: int | None, completion_tokens: int | None) -> None:
        if completion_tokens is not None:
            self._seen += 1
            self._completion_mean += (completion_tokens - self._completion_mean) / min(self._seen, 100)
        if self.tokens is not None and used is not None:
            self.tokens.settle(used - reserved)
