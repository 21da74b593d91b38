"""The project's own OpenAI-compatible endpoint, for offline runs and fault tests.

An aiohttp web application on 127.0.0.1 (HTTP/1.1, keep-alive) with two faces:

    /v1/...      a plain OpenAI-compatible server, as vLLM or Ollama: `POST /v1/chat/completions`,
                 `GET /v1/models` (ids only, no prices); `/v1/key` is a 404
    /api/v1/...  OpenRouter's routes: `POST /api/v1/chat/completions`, `GET /api/v1/models` (with
                 `pricing` per token, as strings), `GET /api/v1/key` (limit, usage, limit_remaining,
                 is_free_tier; 401 for a rejected key)

Every completion carries `usage` with token counts and, unless `report_cost` is off, OpenRouter's
`usage.cost` in USD. With `credit` set the key has that limit: completions are added to its usage, and
once nothing is left a completion gets OpenRouter's 402. Latency is injectable (fixed or lognormal), and
so are faults, each drawn per request with its own probability, or scripted for the first requests:

    429        Too Many Requests with Retry-After (seconds, or an HTTP date)
    500, 503   server errors
    timeout    the server never answers
    slow       the answer comes, `slow_s` seconds late (a straggler)
    reset      the connection is dropped before any answer
    malformed  a 200 whose body is cut-off JSON
    nochoices  a 200 with an empty `choices` list
    error200   a 200 whose body is an `error` object (OpenRouter's upstream failures)
    choiceerr  a 200 whose choice finished with `error`
    empty      a 200 with empty content
    truncated  a 200 cut off by max_tokens (`finish_reason: length`)

With `expect_key` set, a request without that bearer key gets a 401 whose message echoes the key it
was sent, as some providers do, so tests can check that the client never stores it. `stats` counts
completion requests (`requests`), answers, faults drawn and other routes; `max_in_flight` is the most
requests it held at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from evalhouse.ingest.prompts import code_text, problem_text

from .bodies import completion_body, key_info, model_entry
from .models import CATALOG, reply

FAULTS = (
    "429",
    "500",
    "503",
    "timeout",
    "slow",
    "reset",
    "malformed",
    "nochoices",
    "error200",
    "choiceerr",
    "empty",
    "truncated",
)
# The faults a well-behaved client retries, which `--fault-rate` spreads its rate over.
TRANSIENT_FAULTS = ("429", "500", "503", "timeout", "slow", "reset", "malformed")
# The faults that replace the answer (the others delay it, or change its content).
ANSWERED_BY_FAULT = ("429", "500", "503", "reset", "malformed", "nochoices", "error200", "choiceerr")
COMPLETIONS = ("/v1/chat/completions", "/api/v1/chat/completions")


@dataclass
class ServerConfig:
    problems: Path | None = None  # a Parquet file or folder of problems to recognise
    latency_ms: float = 0.0  # median latency
    latency_sigma: float = 0.0  # lognormal sigma; 0 gives a fixed latency
    faults: dict[str, float] = field(default_factory=dict)  # fault -> probability per request
    script: list[str | None] = field(default_factory=list)  # faults (or None) for the first requests, in order
    slow_s: float = 2.0  # the delay of a `slow` answer
    retry_after: str = "1"  # the Retry-After header sent with 429s: seconds, or "date:N" for an HTTP date N s ahead
    expect_key: str | None = None  # answer 401 unless this bearer key is sent
    credit: float | None = None  # the key's credit limit in USD (None: unlimited), as OpenRouter's /key
    usage: float = 0.0  # USD the key had spent before this server started
    report_cost: bool = True  # send `usage.cost` (OpenRouter); off: token counts only (vLLM, Ollama)
    free_tier: bool = False  # /key's `is_free_tier`
    record_bodies: bool = False  # keep the request bodies (for tests)
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [f for f in [*self.faults, *self.script] if f is not None and f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(unknown)}; faults are {', '.join(FAULTS)}")

    @classmethod
    def with_fault_rate(cls, rate: float, **kw: Any) -> ServerConfig:
        """Spread `rate` evenly over the transient faults."""
        return cls(faults={k: rate / len(TRANSIENT_FAULTS) for k in TRANSIENT_FAULTS}, **kw)


class ProblemBook:
    """Question text -> (kind, digit, instance), reloaded when an unknown question arrives."""

    def __init__(self, source: Path | None):
        self.source, self.book, self.loaded_at = source, {}, 0.0
        self.lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        if self.source is None or not self.source.exists():
            return
        import duckdb

        glob = str(self.source / "**" / "*.parquet") if self.source.is_dir() else str(self.source)
        con = duckdb.connect()
        try:
            rows = con.execute(
                "select question, kind, digit, instance_json from read_parquet(?, union_by_name=true)", [glob]
            ).fetchall()
        except duckdb.IOException:
            rows = []
        finally:
            con.close()
        with self.lock:
            self.book = {q: (k, d, json.loads(i)) for q, k, d, i in rows}
            self.loaded_at = time.monotonic()

    def find(self, question: str) -> tuple[str, int, dict[str, Any]] | None:
        hit = self.book.get(question)
        if hit is None and time.monotonic() - self.loaded_at > 0.5:
            self.reload()
            hit = self.book.get(question)
        return hit


def _arm_of(prompt: str) -> str:
    if "<code>" in prompt:
        return "controlsim"
    if '"code"' in prompt:
        return "sim"
    return "nl"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return web.Response(status=status, body=data, headers={"Content-Type": "application/json", **(headers or {})})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return _json(status, {"error": {"code": status, "message": message}}, headers)


class SyntheticServer:
    def __init__(self, config: ServerConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.config = config or ServerConfig()
        self.host, self.port = host, port
        self.book = ProblemBook(self.config.problems)
        self.stats: Counter = Counter()
        self.auth_headers: deque[str] = deque(maxlen=1000)
        self.bodies: list[dict[str, Any]] = []
        self._script = list(self.config.script)
        self._spent = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._rng = random.Random(self.config.seed)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The plain OpenAI-compatible face (no prices, no /key route), as vLLM or Ollama."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def openrouter_url(self) -> str:
        """OpenRouter's face: /models with prices, /key with the credit left."""
        return f"http://{self.host}:{self.port}/api/v1"

    @property
    def spent(self) -> float:
        """USD charged for the completions this server answered (what /key adds to `usage`)."""
        return self._spent

    # -- lifecycle ------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._every_request])
        app.router.add_post("/v1/chat/completions", self._completion)
        app.router.add_post("/api/v1/chat/completions", self._completion)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/api/v1/models", self._openrouter_models)
        app.router.add_get("/api/v1/key", self._key)
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/health", self._health)
        app.router.add_route("*", "/{tail:.*}", self._no_route)
        return app

    async def start(self) -> None:
        # handler_cancellation: a client that gave up (a `timeout` fault) frees its handler at once
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def serve_forever(self) -> None:
        if self._runner is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self._runner.cleanup()

    def start_in_thread(self) -> SyntheticServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="synthetic-endpoint")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> SyntheticServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- every request --------------------------------------------------------------------
    @web.middleware
    async def _every_request(self, request: web.Request, handler) -> web.StreamResponse:
        """Count it (completions as `requests`), track what is in flight, and check the key when one is expected."""
        completion = request.method == "POST" and request.path in COMPLETIONS
        self.stats["requests" if completion else f"{request.method} {request.path}"] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            sent = request.headers.get("Authorization")
            if sent:
                self.auth_headers.append(sent)
            if self.config.expect_key is not None and sent != f"Bearer {self.config.expect_key}":
                given = (sent or "").removeprefix("Bearer ")
                return _error(401, f"Invalid API key {given!r}: no auth credentials found")
            return await handler(request)
        finally:
            self.in_flight -= 1

    # -- routes ---------------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": s.lab} for m, s in CATALOG.items()]
        return _json(200, {"object": "list", "data": data})

    async def _openrouter_models(self, request: web.Request) -> web.Response:
        return _json(200, {"data": [model_entry(s) for s in CATALOG.values()]})

    async def _key(self, request: web.Request) -> web.Response:
        return _json(200, {"data": self._key_info()})

    async def _health(self, request: web.Request) -> web.Response:
        return _json(200, {"status": "ok"})

    async def _no_route(self, request: web.Request) -> web.Response:
        return _error(404, f"no route {request.method} {request.path}")

    async def _completion(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self._credit_left() is not None and self._credit_left() <= 0:
            return _error(402, "Insufficient credits: add more at openrouter.ai/settings/credits")
        fault = self._draw_fault()
        self.stats[f"fault:{fault}"] += 1
        delay = self._latency_s()
        if delay:
            await asyncio.sleep(delay)
        if fault == "timeout":
            await asyncio.sleep(3600)
        if fault == "slow":
            await asyncio.sleep(self.config.slow_s)
        if fault in ANSWERED_BY_FAULT:
            return self._fault(request, fault)
        try:
            asked = json.loads(body)
        except ValueError:
            return _error(400, "body is not JSON")
        if self.config.record_bodies:
            self.bodies.append(asked)
        return self._complete(asked, fault)

    def _fault(self, request: web.Request, fault: str) -> web.Response:
        if fault == "reset":
            if request.transport is not None:
                request.transport.abort()  # dropped before any answer; aiohttp writes nothing more
            return web.Response()
        if fault == "429":
            return _error(429, "Rate limit exceeded", {"Retry-After": self._retry_after()})
        if fault in ("500", "503"):
            return _error(int(fault), "Upstream provider unavailable")
        if fault == "malformed":
            return _json(200, b'{"id": "gen-broken", "choices": [{"message": {"content": "trunc')
        if fault == "nochoices":
            return _json(200, {"id": "gen-nochoices", "object": "chat.completion", "choices": []})
        if fault == "error200":
            return _json(200, {"error": {"code": 502, "message": "Provider returned error", "metadata": {}}})
        choice = {
            "index": 0,
            "finish_reason": "error",
            "message": {"role": "assistant", "content": ""},
            "error": {"code": 502, "message": "Upstream stream ended early"},
        }
        return _json(200, {"id": "gen-choiceerr", "choices": [choice]})  # choiceerr

    def _complete(self, request: dict[str, Any], fault: str | None = None) -> web.Response:
        model_id = request.get("model", "")
        model = CATALOG.get(model_id)
        if model is None:
            return _error(404, f"model {model_id!r} not found (synthetic endpoint)")
        messages = request.get("messages") or []
        prompt = messages[-1].get("content", "") if messages else ""
        question = problem_text(prompt)
        hit = self.book.find(question) if question is not None else None
        if fault == "empty":
            text = ""
        elif hit is None:
            text = "I do not recognise this problem (synthetic endpoint)."
        else:
            kind, digit, instance = hit
            text = reply(model, _arm_of(prompt), kind, digit, instance, request.get("seed"), code_text(prompt))
        finish = "stop"
        if fault == "truncated":
            text, finish = text[: len(text) // 3], "length"
        prompt_tokens = sum(len(m.get("content", "")) for m in messages) // 4
        completion_tokens = len(text) // 4
        cost = round(model.cost(prompt_tokens, completion_tokens), 12)
        self._spent += cost
        self.stats["answered"] += 1
        reported = cost if self.config.report_cost else None
        return _json(200, completion_body(model, text, prompt_tokens, completion_tokens, finish, reported))

    # -- draws ----------------------------------------------------------------------------
    def _draw_fault(self) -> str | None:
        if self._script:
            return self._script.pop(0)
        roll, acc = self._rng.random(), 0.0
        for fault, p in self.config.faults.items():
            acc += p
            if roll < acc:
                return fault
        return None

    def _latency_s(self) -> float:
        c = self.config
        if c.latency_ms <= 0:
            return 0.0
        if c.latency_sigma <= 0:
            return c.latency_ms / 1000
        return c.latency_ms * math.exp(self._rng.gauss(0, c.latency_sigma)) / 1000

    def _retry_after(self) -> str:
        value = self.config.retry_after
        if value.startswith("date:"):
            return email.utils.formatdate(time.time() + float(value[5:]), usegmt=True)
        return value

    # -- OpenRouter's key -----------------------------------------------------------------
    def _credit_left(self) -> float | None:
        c = self.config
        return None if c.credit is None else max(0.0, c.credit - c.usage - self._spent)

    def _key_info(self) -> dict[str, Any]:
        c = self.config
        return key_info(c.credit, c.usage + self._spent, self._credit_left(), c.free_tier)
