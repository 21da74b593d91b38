"""`--max-cost`: stop starting requests before the cost of a plan could pass its cap.

The cap is on the plan's total (what its stored responses cost, plus what this run spends), so a run
stopped at the cap or run again from cron never spends past it (a killed run's requests in flight may
have been billed but were never stored, so they are not counted); a higher cap goes on from where the
last run stopped. Each request, once it holds a slot of the window and before it is sent, reserves the
most it can cost: its prompt at one token per byte of the request body (a byte-level BPE token is at
least one byte) plus `max_tokens` of completion, at the model's prices. A reservation that would take
spent + reserved past the cap waits for requests in flight to settle (their real cost is usually far
below their reservation); when nothing is in flight and it still does not fit, the cap is reached: that
request is not sent, nor any later one, and what was in flight has finished and is stored. When an
answer lands, its reservation is replaced by its cost: the provider's `usage.cost` when it reports one,
else its token counts at the model's prices. An HTTP error costs nothing (providers do not bill refused
requests); an answer lost in transit (timeout, dropped connection, cancelled) keeps its whole
reservation, since it may have been billed.
"""

from __future__ import annotations

import asyncio

from .endpoint import Price
from .reply import Completion

TEMPLATE_TOKENS = 16  # chat-template tokens around the messages, beyond the body's bytes


class CapReached(Exception):
    """The next request might pass the cost cap, so it is not sent."""


class Budget:
    def __init__(self, cap: float, spent_before: float, prices: dict[str, Price], max_tokens: int):
        self.cap, self.spent_before = cap, spent_before
        self.prices, self.max_tokens = prices, max_tokens
        self.spent = 0.0  # by this run
        self.reserved = 0.0
        self.reached = False
        self._holding = 0  # reservations not settled yet (a count: float sums never quite reach 0)
        self._settled = asyncio.Event()

    @property
    def total(self) -> float:
        return self.spent_before + self.spent

    async def reserve(self, model: str, body_bytes: int) -> float:
        """Set aside the most this request can cost; raises CapReached when it cannot fit under the cap."""
        bound = self.prices[model].cost(body_bytes + TEMPLATE_TOKENS, self.max_tokens)
        while not self.reached and self.total + self.reserved + bound > self.cap:
            if not self._holding:
                self.reached = True
                break
            self._settled.clear()
            await self._settled.wait()
        if self.reached:
            raise CapReached(f"the next request might pass the cap of ${self.cap:g}")
        self.reserved += bound
        self._holding += 1
        return bound

    def settle(self, model: str, bound: float, completion: Completion | None, answered: bool) -> None:
        """Replace a reservation by the cost: `answered` is whether any HTTP answer came back."""
        self._holding -= 1
        self.reserved = self.reserved - bound if self._holding else 0.0
        if completion is not None:
            self.spent += self.charge(model, completion, bound)
        elif not answered:
            self.spent += bound
        self._settled.set()

    def charge(self, model: str, completion: Completion, bound: float) -> float:
        if completion.cost is not None:
            return completion.cost
        if completion.prompt_tokens is None and completion.completion_tokens is None:
            return bound
        return self.prices[model].cost(completion.prompt_tokens or 0, completion.completion_tokens or 0)
