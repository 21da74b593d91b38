"""`evalhouse synthetic serve`: the offline OpenAI-compatible endpoint."""
from __future__ import annotations

import asyncio
from pathlib import Path

import click

from evalhouse.config import paths
from evalhouse.synthetic import CATALOG, ServerConfig, SyntheticServer


@click.group()
def synthetic() -> None:
    """The project's offline OpenAI-compatible endpoint and its simulated models."""


@synthetic.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--port-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the chosen port here once listening.")
@click.option("--problems", "problems_path", type=click.Path(path_type=Path), default=None,
              help="Problems to recognise (file or folder) [default: data/raw/problems].")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Median latency.")
@click.option("--latency-sigma", type=float, default=0.0, show_default=True, help="Lognormal sigma (0: fixed).")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Share of requests answered with a fault (429, 5xx, timeout, reset, malformed).")
def serve(host, port, port_file, problems_path, latency_ms, latency_sigma, fault_rate) -> None:
    """Serve POST /v1/chat/completions with simulated (synthetic) models.

    Simulated models: """ + ", ".join(CATALOG) + """.

    \b
    Example:
        evalhouse synthetic serve --port 8765 --latency-ms 50 --latency-sigma 1
    """
    config = ServerConfig.with_fault_rate(
        fault_rate, problems=problems_path or paths().problems, latency_ms=latency_ms, latency_sigma=latency_sigma
    )
    server = SyntheticServer(config, host, port)

    async def main() -> None:
        await server.start()
        if port_file:
            port_file.write_text(str(server.port))
        click.echo(f"synthetic endpoint listening on {server.url} (simulated models: {', '.join(CATALOG)})", err=True)
        await server.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
