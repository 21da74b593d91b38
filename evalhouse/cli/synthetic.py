"""`evalhouse synthetic serve`: the offline OpenAI-compatible endpoint."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click

from evalhouse.config import paths
from evalhouse.synthetic import CATALOG, ServerConfig, SyntheticServer
from evalhouse.synthetic.server import FAULTS


@click.group()
def synthetic() -> None:
    """The project's offline OpenAI-compatible endpoint and its simulated models."""


@synthetic.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option(
    "--port-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the chosen port here once listening."
)
@click.option(
    "--problems",
    "problems_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Problems to recognise (file or folder) [default: data/raw/problems].",
)
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Median latency.")
@click.option("--latency-sigma", type=float, default=0.0, show_default=True, help="Lognormal sigma (0: fixed).")
@click.option(
    "--fault-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of requests answered with a fault (429, 5xx, timeout, reset, malformed).",
)
@click.option(
    "--faults",
    "fault_list",
    default=None,
    help="Faults and their probabilities instead, e.g. 429=0.02,timeout=0.01,truncated=0.01 "
    f"(faults: {', '.join(FAULTS)}).",
)
@click.option("--retry-after", default="1", show_default=True, help="Retry-After sent with 429s: seconds, or date:N.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latency and fault draws.")
@click.option(
    "--credit",
    type=float,
    default=None,
    help="The key's credit limit in USD, as OpenRouter's /key reports "
    "it; completions get 402 once it is spent [default: no limit].",
)
@click.option(
    "--report-cost/--tokens-only",
    default=True,
    show_default=True,
    help="Send OpenRouter's usage.cost with each completion, or token counts only (as vLLM).",
)
def serve(
    host,
    port,
    port_file,
    problems_path,
    latency_ms,
    latency_sigma,
    fault_rate,
    fault_list,
    retry_after,
    seed,
    credit,
    report_cost,
) -> None:
    (
        """Serve POST /v1/chat/completions with simulated (synthetic) models.

    Under /api/v1 the same server speaks as OpenRouter: GET /api/v1/models lists prices and
    GET /api/v1/key the key's credit; under /v1 it is a plain OpenAI-compatible server (as vLLM).

    Simulated models: """
        + ", ".join(CATALOG)
        + """.

    \b
    Example:
        evalhouse synthetic serve --port 8765 --latency-ms 50 --latency-sigma 1
    """
    )
    settings = dict(
        problems=problems_path or paths().problems,
        latency_ms=latency_ms,
        latency_sigma=latency_sigma,
        retry_after=retry_after,
        seed=seed,
        credit=credit,
        report_cost=report_cost,
    )
    try:
        if fault_list:
            faults = {name.strip(): float(p) for name, _, p in (item.partition("=") for item in fault_list.split(","))}
            config = ServerConfig(faults=faults, **settings)
        else:
            config = ServerConfig.with_fault_rate(fault_rate, **settings)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    server = SyntheticServer(config, host, port)

    async def main() -> None:
        await server.start()
        if port_file:
            port_file.write_text(str(server.port))
        click.echo(
            f"synthetic endpoint listening on {server.url} (as OpenRouter: {server.openrouter_url}; "
            f"simulated models: {', '.join(CATALOG)})",
            err=True,
        )
        await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
