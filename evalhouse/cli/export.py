"""`evalhouse export …`: the warehouse's results in other tools' formats."""

from __future__ import annotations

from pathlib import Path

import click

from evalhouse.config import paths
from evalhouse.export_eee import ExportError, export_eee

from .common import user_errors


@click.group()
def export() -> None:
    """Write the warehouse's results in other tools' formats."""


@export.command("eee")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write into."
)
@click.option("--model", "models", multiple=True, help="Only this model (id, display name or alias); repeatable.")
@click.option(
    "--task", "tasks", multiple=True, help="Only this task (a harness task, or an evalhouse kind); repeatable."
)
@user_errors(ExportError)
def eee_cmd(out: Path, models: tuple[str, ...], tasks: tuple[str, ...]) -> None:
    """Every Eval Ever aggregate .json and instance .jsonl files, one pair per run and model.

    Reads marts.benchmark_scores and marts.benchmark_instances: every imported harness run, and
    evalhouse's own results (one run per model: kinds as tasks, arms as variants). Files are laid out as
    the Every Eval Ever datastore has them, OUT/data/<source>/<developer>/<model>/<uuid>.json, so
    `every_eval_ever validate 'OUT/data/**/*.json*'` checks them; `evalhouse ingest import OUT` reads them back.

    \b
    Example:
        evalhouse export eee --out exports/ --model openai/gpt-4o --task arc_easy
    """
    exported = export_eee(paths().warehouse, out, list(models), list(tasks))
    for e in exported:
        samples = f" + {e.instances} instances in {e.samples.name}" if e.samples else ""
        click.echo(f"{e.aggregate}: {e.results} results{samples}")
    click.echo(f"{len(exported)} run(s) written under {out / 'data'}")
