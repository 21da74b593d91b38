"""`evalhouse problems …`: generate problem sets, list the kinds, show one instance."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import click
import pyarrow.parquet as pq
from tqdm import tqdm

from evalhouse.config import paths
from evalhouse.files import write_atomic
from evalhouse.ingest.problems import KINDS, UnknownKind, expand_kinds, generate, get_kind
from evalhouse.ingest.shards import table_from_rows, write_shard
from evalhouse.ingest.store import problems_schema
from evalhouse.storage import StorageError

from .common import csv_list, user_errors


@click.group()
def problems() -> None:
    """Generate problem sets and inspect the problem kinds."""


@problems.command("generate")
@click.option("--kinds", required=True, help="Comma-separated kinds, or families: fine_grained, clrs, np_hard, all.")
@click.option(
    "--digits",
    default="2",
    show_default=True,
    help="Comma-separated digits (sizes); kinds without a digit ignore them.",
)
@click.option(
    "--n", type=int, default=10, show_default=True, help="Instances per kind and digit (per kind without a digit)."
)
@click.option("--problem-seed", type=int, default=0, show_default=True, help="Seed of the generator.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a copy to this Parquet file.",
)
@user_errors(UnknownKind, StorageError)
def generate_cmd(kinds: str, digits: str, n: int, problem_seed: int, out: Path | None) -> None:
    """Generate problems with exact golds, deterministically, as Parquet.

    The same (kind, digit, index, problem seed) gives the same instance and problem_id on any machine.
    The file goes under data/raw/problems/, so `evalhouse build` brings the problems into the warehouse
    (staging.stg_problems); --out writes a copy elsewhere as well.

    \b
    Example:
        evalhouse problems generate --kinds add,sub,lcs --digits 2,4 --n 5 --out problems.parquet
        evalhouse problems generate --kinds fine_grained,clrs,np_hard --digits 2,4,6,8,10,12,14,16,18,20 --n 30
    """
    names, sizes = expand_kinds(csv_list(kinds)), csv_list(digits, int)
    total = sum(n * (len(sizes) if KINDS[name].has_digit else 1) for name in names)
    with tqdm(total=total, unit="problem", desc="generating", disable=None) as bar:
        rows = []
        for p in generate(names, sizes, n, problem_seed):
            rows.append(p.as_row(problem_seed))
            bar.update(1)
    table = table_from_rows(rows, problems_schema())
    stem = "problems-" + hashlib.sha256("|".join(r["problem_id"] for r in rows).encode()).hexdigest()[:16]
    where = paths()
    target = write_shard(table, where.stored(where.problems), stem)  # the local folder, or the bucket's
    click.echo(f"wrote {len(rows)} problems ({len(names)} kinds) to {target}")
    if out is not None:
        write_atomic(out, functools.partial(pq.write_table, table, compression="zstd"))
        click.echo(f"  copy: {out}")


@problems.command("kinds")
@click.option(
    "--family", type=click.Choice(["fine_grained", "clrs", "np_hard"]), default=None, help="Only this family."
)
def kinds_cmd(family: str | None) -> None:
    """List the problem kinds: family, digit axis, how answers are checked, and the answer type.

    \b
    Example:
        evalhouse problems kinds --family np_hard
    """
    for name, kind in KINDS.items():
        if family and kind.family != family:
            continue
        axis = "digit" if kind.has_digit else "level"
        check = "verifier" if kind.needs_verifier else "gold"
        click.echo(f"{name:30} {kind.family:13} {axis:6} {check:9} {kind.answer_hint}")


@problems.command("show")
@click.argument("kind")
@click.option("--digit", type=int, default=4, show_default=True, help="Digit (size); ignored by kinds without one.")
@click.option("--index", type=int, default=0, show_default=True, help="Instance index.")
@click.option("--problem-seed", type=int, default=0, show_default=True, help="Seed of the generator.")
@user_errors(UnknownKind)
def show_cmd(kind: str, digit: int, index: int, problem_seed: int) -> None:
    """Print one instance: its id, question, gold and a reference answer.

    \b
    Example:
        evalhouse problems show tsp --index 3
    """
    k = get_kind(kind)
    p = k.make(digit, index, problem_seed)
    click.echo(f"problem_id: {p.problem_id}  kind: {p.kind}  digit: {p.digit}  index: {p.index}")
    click.echo(f"\n{p.question}\n")
    click.echo(f"gold_answer: {p.gold_answer}")
    click.echo(f"a right answer: {json.dumps(k.solve(p.instance))}")
    click.echo(f"checked by: {'a verifier' if k.needs_verifier else 'comparison with the gold'}")
