"""`evalhouse analyze …`: statistics and figures over the marts."""
from __future__ import annotations

import json
import math
from pathlib import Path

import click

from evalhouse.analysis.sources import SourceError, load_frame, warehouse
from evalhouse.config import paths

from .common import user_errors


@click.group()
def analyze() -> None:
    """Statistics and figures read from the marts (or a file)."""


def _jsonable(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else str(obj)
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def write_json(data: dict, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")


@analyze.command("mixedlm")
@click.option("--from", "source", required=True, help="Warehouse table (marts.model_metrics) or a .csv/.parquet file.")
@click.option("--formula", required=True, help='Fixed effects, e.g. "value ~ is_flagship".')
@click.option("--group", required=True, help="Column whose levels get a random intercept, e.g. lab.")
@click.option("--where", default=None, help="SQL filter on the source, e.g. \"metric = 'hubris'\".")
@click.option("--ml", is_flag=True, help="Maximum likelihood instead of REML.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the results as JSON.")
@click.option("--latex", "latex_out", type=click.Path(dir_okay=False, path_type=Path), help="Write a LaTeX table.")
@user_errors(SourceError, ValueError)
def mixedlm_cmd(source, formula, group, where, ml, json_out, latex_out) -> None:
    """Fit a linear mixed model with a random intercept per group, as lme4 fits it.

    REML by default. Standard errors are lme4's, σ²(X′V⁻¹X)⁻¹; a fit whose group variance is on the
    boundary is reported as singular, and the likelihood is never infinite.

    \b
    Example:
        evalhouse analyze mixedlm --from marts.model_metrics --where "metric = 'hubris'" \\
            --formula "value ~ is_flagship" --group lab --json out/mixedlm.json
    """
    from evalhouse.analysis.mixedlm import fit_mixedlm

    frame = load_frame(source, where)
    if frame.empty:
        raise click.ClickException(f"{source}{' where ' + where if where else ''} has no rows")
    result = fit_mixedlm(frame, formula, group, reml=not ml)
    click.echo(result.summary())
    if json_out:
        write_json(result.to_dict(), json_out)
        click.echo(f"\nJSON: {json_out}")
    if latex_out:
        latex_out.parent.mkdir(parents=True, exist_ok=True)
        latex_out.write_text(result.latex() + "\n")
        click.echo(f"LaTeX: {latex_out}")


@analyze.command("figures")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the figures [default: data/outputs/figures].")
@user_errors(SourceError)
def figures_cmd(out_dir: Path | None) -> None:
    """Draw the figures (PNG and PDF) from the marts.

    \b
    Example:
        evalhouse analyze figures --out figures/
    """
    from evalhouse.analysis.figures import accuracy_by_arm

    out_dir = out_dir or paths().outputs / "figures"
    with warehouse() as con:
        cells = con.execute(
            """
            select a.model, coalesce(r.lab, 'unregistered') as lab, a.arm, a.kind, a.n, a.n_correct
            from marts.acc_model_arm_kind a left join seeds.model_registry r using (model)
            """
        ).df()
    if cells.empty:
        raise click.ClickException("marts.acc_model_arm_kind is empty; collect or import responses, then build")
    synthetic = cells["model"].str.startswith("synthetic/").any()
    title = "Accuracy by arm" + (" (synthetic models)" if synthetic else "")
    for path in accuracy_by_arm(cells, out_dir / "accuracy_by_arm", title):
        click.echo(f"figure: {path}")
