"""`evalhouse problems …`: generate problem sets."""
from __future__ import annotations

from pathlib import Path

import click

from evalhouse.config import paths
from evalhouse.ingest.problems import UnknownKind, generate
from evalhouse.ingest.shards import table_from_rows, write_atomic
from evalhouse.ingest.store import problems_schema

from .common import csv_list, user_errors


@click.group()
def problems() -> None:
    """Generate problem sets."""


@problems.command("generate")
@click.option("--kinds", required=True, help="Comma-separated kinds.")
@click.option("--digits", default="2", show_default=True, help="Comma-separated digits.")
@click.option("--n", type=int, default=10, show_default=True, help="Instances per kind and digit.")
@click.option("--problem-seed", type=int, default=0, show_default=True, help="Seed of the generator.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Parquet file to write [default: a file under data/raw/problems/].")
@user_errors(UnknownKind)
def generate_cmd(kinds: str, digits: str, n: int, problem_seed: int, out: Path | None) -> None:
    """Generate problems with exact golds, deterministically.

    The same (kind, digit, index, problem seed) gives the same instance and problem_id on any machine.

    \b
    Example:
        evalhouse problems generate --kinds add,sub,lcs --digits 2,4 --n 5 --out problems.parquet
    """
    rows = [p.as_row(problem_seed) for p in generate(csv_list(kinds), csv_list(digits, int), n, problem_seed)]
    table = table_from_rows(rows, problems_schema())
    if out is None:
        import hashlib

        stem = "problems-" + hashlib.sha256("|".join(r["problem_id"] for r in rows).encode()).hexdigest()[:16]
        target = write_atomic(table, paths().problems, stem)
    else:
        target = write_atomic(table, out.parent if str(out.parent) else Path("."), out.stem)
    click.echo(f"wrote {len(rows)} problems to {target}")
