"""`evalhouse build`: dbt build into the warehouse file."""
from __future__ import annotations

import click

from evalhouse.build import BuildError
from evalhouse.build import build as run_build
from evalhouse.config import paths

from .common import user_errors


@click.command()
@click.option("--select", default=None, help="dbt node selection (default: everything).")
@click.option("--verbose", is_flag=True, help="Show dbt's own output.")
@user_errors(BuildError)
def build(select: str | None, verbose: bool) -> None:
    """Build the warehouse from data/ and the dbt seeds (runs `dbt build`).

    The new warehouse is written beside the old one and swapped in when every model and test passed,
    so readers in the DuckDB shell never see a half-built file.

    \b
    Example:
        evalhouse build
        duckdb -readonly warehouse/evalhouse.duckdb -c "select * from marts.acc_model_arm_kind limit 5"
    """
    result = run_build(paths(), select=select, quiet=not verbose)
    if verbose:
        click.echo(result.log)
    click.echo(f"built {result.warehouse} in {result.seconds:.1f}s")
