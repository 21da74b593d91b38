"""`evalhouse build`: dbt build into the warehouse file."""

from __future__ import annotations

import gc

import click

from evalhouse.build import BuildError
from evalhouse.build import build as run_build
from evalhouse.config import paths

from .common import user_errors


@click.command()
@click.option("--select", default=None, help="dbt node selection (default: everything).")
@click.option("--full-refresh", is_flag=True, help="Rebuild from scratch instead of adding only new shards.")
@click.option(
    "--memory-limit",
    default=None,
    metavar="SIZE",
    help="DuckDB memory limit, e.g. 4GB (default 4GB; larger work spills to warehouse/.tmp).",
)
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=None,
    help="dbt threads: models built at once (default 2 for a full build, 4 for an incremental one).",
)
@click.option(
    "--target",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="local: the DuckDB file; spark: the same models on Spark (needs evalhouse[spark]).",
)
@click.option("--verbose", is_flag=True, help="Show dbt's own output.")
@user_errors(BuildError)
def build(
    select: str | None, full_refresh: bool, memory_limit: str | None, threads: int | None, target: str, verbose: bool
) -> None:
    """Build the warehouse from data/ and the dbt seeds (runs `dbt build`).

    The new warehouse is written beside the old one and swapped in when every model and test passed,
    so readers in the DuckDB shell never see a half-built file. A build adds only the shards it has not
    loaded yet, unless the project or a loaded shard changed (then it rebuilds from scratch). A second
    build of the same warehouse, or a process holding it open for writing, makes it fail at once.

    \b
    With --target spark, Spark builds the same models over the same shards into warehouse/spark/
    (always in full; see docs/scaling.md).

    \b
    Example:
        evalhouse build
        duckdb -readonly warehouse/evalhouse.duckdb -c "select * from marts.acc_model_arm_kind limit 5"
        evalhouse build --target spark
    """
    # dbt makes some 250,000 long-lived objects, which Python's cycle collector would scan 50-odd times
    # during a build (0.5 s of CPU) and once more as the process ends (0.6 s): it waits until the build
    # is over, and the objects then left are frozen, freed without a last scan.
    gc.disable()
    try:
        if target == "spark":
            result = _build_spark(select, threads, verbose)
        else:
            result = run_build(
                paths(),
                select=select,
                full_refresh=full_refresh,
                quiet=not verbose,
                memory_limit=memory_limit,
                threads=threads,
            )
    finally:
        gc.freeze()
        gc.enable()
    if verbose:
        click.echo(result.log)
    click.echo(f"built {result.warehouse} in {result.seconds:.1f}s ({result.mode}: {result.reason})")


def _build_spark(select: str | None, threads: int | None, verbose: bool):
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        raise BuildError("the spark target needs pyspark and dbt-spark: pip install 'evalhouse[spark]'") from None
    from evalhouse.build_spark import build_spark

    return build_spark(paths(), select=select, quiet=not verbose, threads=threads)


@click.command()
@click.option("--quiet", is_flag=True, help="No progress bar.")
def regrade(quiet: bool) -> None:
    """Read again the stored replies that the current answer reader has not read.

    Shards written by older versions or by other tools (only the contract's columns, no parsed answer),
    and rows read by an older version of the reader, are read with the one reader the collector and the
    importers use; what it reads goes to data/raw/answers/ and the warehouse prefers it. `evalhouse build`
    runs this first, so it is needed only to look before a build. Running it again reads nothing.

    \b
    Example:
        evalhouse regrade && evalhouse build
    """
    from evalhouse.ingest.answers.reread import UnreadableShard
    from evalhouse.ingest.answers.reread import regrade as run_regrade

    where = paths()
    if where.data_uri:
        raise click.ClickException(
            "regrade reads a local data folder; shards in object storage are read by the collector"
        )
    try:
        summary = run_regrade(where.raw, progress=not quiet)
    except UnreadableShard as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)
