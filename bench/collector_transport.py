"""Why the project's one HTTP client is aiohttp: CPU per request of aiohttp and httpx at a window of 64.

Both clients post the same body to the zero-latency synthetic endpoint (its own process) through a
window of 64 and parse the JSON answer; each runs in a fresh process, timed by `wait4`. httpx is not a
dependency of evalhouse (this benchmark is why): install it into the virtualenv to re-run the comparison.

    .venv/bin/pip install httpx && .venv/bin/python bench/collector_transport.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from collector_util import endpoint, load, run_measured

BODY = {
    "model": "synthetic/atlas-large",
    "messages": [{"role": "user", "content": "x" * 800}],
    "seed": 0,
    "temperature": 0,
    "max_tokens": 100,
}


async def with_aiohttp(url: str, n: int, window: int) -> None:
    import aiohttp

    slots = asyncio.Semaphore(window)
    data = json.dumps(BODY).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=window)) as session:

        async def one() -> None:
            async with slots, session.post(url, data=data, headers={"Content-Type": "application/json"}) as r:
                json.loads(await r.read())

        await asyncio.gather(*(one() for _ in range(n)))


async def with_httpx(url: str, n: int, window: int) -> None:
    import httpx

    slots = asyncio.Semaphore(window)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=window)) as client:

        async def one() -> None:
            async with slots:
                (await client.post(url, json=BODY)).json()

        await asyncio.gather(*(one() for _ in range(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--client", choices=["aiohttp", "httpx"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run = with_aiohttp if args.client == "aiohttp" else with_httpx
        asyncio.run(run(args.url, args.requests, args.window))
        return
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise SystemExit("httpx is not installed (it is not a dependency): .venv/bin/pip install httpx") from None
    print(f"transport benchmark: {args.requests} requests, window {args.window}; {load()}")
    with endpoint(Path(tempfile.mkdtemp()) / "none") as (url, _):
        cpu = {}
        for client in ("aiohttp", "httpx"):
            wall, seconds, _, rc = run_measured(
                [
                    sys.executable,
                    __file__,
                    "--client",
                    client,
                    "--url",
                    url + "/chat/completions",
                    "--requests",
                    str(args.requests),
                    "--window",
                    str(args.window),
                ]
            )
            assert rc == 0, f"{client} failed"
            cpu[client] = seconds / args.requests * 1000
            print(f"  {client}: {cpu[client]:.3f} ms CPU per request ({wall:.1f}s wall; start-up included)")
    print(f"  httpx / aiohttp: {cpu['httpx'] / cpu['aiohttp']:.1f}x")


if __name__ == "__main__":
    main()
