"""The project's own OpenAI-compatible endpoint, for offline runs and fault tests.

A real HTTP/1.1 server (asyncio streams, keep-alive) on 127.0.0.1 with two faces:

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
was sent, as some providers do, so tests can check that the client never stores it.
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

from evalhouse.ingest.prompts import code_text, problem_text

from .models import CATALOG, SyntheticModel, reply

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
        self._server: asyncio.AbstractServer | None = None
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
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        async with self._server:
            await self._server.serve_forever()

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
        if self._loop and self._server:

            async def shutdown() -> None:
                self._server.close()
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()

            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> SyntheticServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP -----------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    result = await self._route(method, path.split("?")[0], headers, body)
                finally:
                    self.in_flight -= 1
                if result is None:  # reset
                    writer.transport.abort()
                    return
                status, extra, payload = result
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                head = [
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                    "Connection: keep-alive",
                ]
                head += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        finally:
            if not writer.transport.is_closing():
                writer.close()

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

    async def _route(self, method: str, path: str, headers: dict[str, str], body: bytes):
        completion = method == "POST" and path in ("/v1/chat/completions", "/api/v1/chat/completions")
        self.stats["requests" if completion else f"{method} {path}"] += 1  # `requests`: completions only
        sent = headers.get("authorization")
        if sent:
            self.auth_headers.append(sent)
        if self.config.expect_key is not None and sent != f"Bearer {self.config.expect_key}":
            given = (sent or "").removeprefix("Bearer ")
            return 401, {}, {"error": {"code": 401, "message": f"Invalid API key {given!r}: no auth credentials found"}}
        if method == "GET" and path == "/v1/models":
            return (
                200,
                {},
                {
                    "object": "list",
                    "data": [{"id": m, "object": "model", "created": 0, "owned_by": s.lab} for m, s in CATALOG.items()],
                },
            )
        if method == "GET" and path == "/api/v1/models":
            return 200, {}, {"data": [_openrouter_model(s) for s in CATALOG.values()]}
        if method == "GET" and path == "/api/v1/key":
            return 200, {}, {"data": self._key_info()}
        if method == "GET" and path in ("/health", "/v1/health"):
            return 200, {}, {"status": "ok"}
        if not completion:
            return 404, {}, {"error": {"code": 404, "message": f"no route {method} {path}"}}
        if self._credit_left() is not None and self._credit_left() <= 0:
            return (
                402,
                {},
                {"error": {"code": 402, "message": "Insufficient credits: add more at openrouter.ai/settings/credits"}},
            )
        fault = self._draw_fault()
        self.stats[f"fault:{fault}"] += 1
        delay = self._latency_s()
        if delay:
            await asyncio.sleep(delay)
        if fault == "timeout":
            await asyncio.sleep(3600)
        if fault == "slow":
            await asyncio.sleep(self.config.slow_s)
        if fault == "reset":
            return None
        if fault == "429":
            return 429, {"Retry-After": self._retry_after()}, {"error": {"code": 429, "message": "Rate limit exceeded"}}
        if fault in ("500", "503"):
            return int(fault), {}, {"error": {"code": int(fault), "message": "Upstream provider unavailable"}}
        if fault == "malformed":
            return 200, {}, b'{"id": "gen-broken", "choices": [{"message": {"content": "trunc'
        if fault == "nochoices":
            return 200, {}, {"id": "gen-nochoices", "object": "chat.completion", "choices": []}
        if fault == "error200":
            return 200, {}, {"error": {"code": 502, "message": "Provider returned error", "metadata": {}}}
        if fault == "choiceerr":
            return (
                200,
                {},
                {
                    "id": "gen-choiceerr",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "error",
                            "message": {"role": "assistant", "content": ""},
                            "error": {"code": 502, "message": "Upstream stream ended early"},
                        }
                    ],
                },
            )
        try:
            request = json.loads(body)
        except ValueError:
            return 400, {}, {"error": {"code": 400, "message": "body is not JSON"}}
        if self.config.record_bodies:
            self.bodies.append(request)
        return self._complete(request, fault)

    def _complete(self, request: dict[str, Any], fault: str | None = None):
        model_id = request.get("model", "")
        model = CATALOG.get(model_id)
        if model is None:
            return 404, {}, {"error": {"code": 404, "message": f"model {model_id!r} not found (synthetic endpoint)"}}
        messages = request.get("messages") or []
        prompt = messages[-1].get("content", "") if messages else ""
        question = problem_text(prompt)
        hit = self.book.find(question) if question is not None else None
        arm = _arm_of(prompt)
        if fault == "empty":
            text = ""
        elif hit is None:
            text = "I do not recognise this problem (synthetic endpoint)."
        else:
            kind, digit, instance = hit
            text = reply(model, arm, kind, digit, instance, request.get("seed"), code_text(prompt))
        finish = "stop"
        if fault == "truncated":
            text, finish = text[: len(text) // 3], "length"
        prompt_tokens = sum(len(m.get("content", "")) for m in messages) // 4
        completion_tokens = len(text) // 4
        cost = round(model.cost(prompt_tokens, completion_tokens), 12)
        self._spent += cost
        self.stats["answered"] += 1
        return (
            200,
            {},
            _completion(
                model, text, prompt_tokens, completion_tokens, finish, cost if self.config.report_cost else None
            ),
        )

    def _credit_left(self) -> float | None:
        c = self.config
        return None if c.credit is None else max(0.0, c.credit - c.usage - self._spent)

    def _key_info(self) -> dict[str, Any]:
        """OpenRouter's `GET /api/v1/key` data (its `label` is a masked key; this one names no key at all)."""
        c = self.config
        usage = round(c.usage + self._spent, 12)
        return {
            "label": "synthetic-key",
            "limit": c.credit,
            "limit_remaining": self._credit_left(),
            "limit_reset": None,
            "include_byok_in_limit": False,
            "usage": usage,
            "usage_daily": usage,
            "usage_weekly": usage,
            "usage_monthly": usage,
            "is_free_tier": c.free_tier,
            "is_provisioning_key": False,
        }


def _openrouter_model(model: SyntheticModel) -> dict[str, Any]:
    """One entry of OpenRouter's model list: prices are USD per token, written as decimal strings."""
    return {
        "id": model.model,
        "canonical_slug": model.model,
        "name": f"{model.model} (synthetic)",
        "created": 0,
        "context_length": 131072,
        "architecture": {"modality": "text->text", "input_modalities": ["text"], "output_modalities": ["text"]},
        "pricing": {
            "prompt": f"{model.prompt_price:.10f}".rstrip("0"),
            "completion": f"{model.completion_price:.10f}".rstrip("0"),
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {"context_length": 131072, "max_completion_tokens": 32768, "is_moderated": False},
        "supported_parameters": ["max_tokens", "temperature", "seed"],
    }


def _completion(
    model: SyntheticModel,
    text: str,
    prompt_tokens: int,
    completion_tokens: int,
    finish_reason: str = "stop",
    cost: float | None = None,
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cost is not None:
        usage["cost"] = cost
    return {
        "id": f"gen-synthetic-{random.getrandbits(48):012x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model.model,
        "provider": "Synthetic",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
                "native_finish_reason": finish_reason,
            }
        ],
        "usage": usage,
    }


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
