"""`evalhouse rerun`, `status`, `validate`, `report`, `repair`: operating an experiment that runs for days."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evalhouse.analysis.sources import SourceError
from evalhouse.config import paths
from evalhouse.ingest.spec import SpecError
from evalhouse.ops.repair import RepairError
from evalhouse.ops.status import StatusError

from .common import user_errors

experiments_option = click.option(
    "--experiments",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("experiments"),
    show_default=True,
    help="Folder of experiment specs (*.toml), relative to the working folder.",
)


@click.command()
@experiments_option
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append the log here [default: data/logs/rerun.log].",
)
@click.option("--quiet", is_flag=True, help="Print only warnings and errors (the log file gets everything).")
def rerun(experiments: Path, log_file: Path | None, quiet: bool) -> None:
    """Resume every experiment spec, build the warehouse, refresh the analysis outputs; for cron.

    Idempotent: it collects only what is missing, asks again for responses stored as errors, then builds
    and rewrites data/outputs/ (analyses, figures, validation, report.html). One rerun at a time per
    data folder: a second one exits at once with code 75. A lock left by a killed rerun is recovered.

    \b
    Exit codes:
      0   done: specs resumed, warehouse built, outputs refreshed
      1   no specs, or a spec is not valid; nothing was run
      2   bad command-line option
      3   a spec could not be collected (endpoint unreachable, crash); the others ran, the build ran
      4   dbt build failed; the previous warehouse is untouched
      5   built, but an analysis output could not be refreshed
      75  another rerun holds the lock; nothing was done

    \b
    Example:
        evalhouse rerun                       # in the folder that holds experiments/
        */30 * * * * cd /srv/evals && .venv/bin/evalhouse rerun --quiet
    """
    from evalhouse.ops.rerun import rerun as run

    result = run(paths(), experiments, log_file, quiet)
    sys.exit(int(result.exit_code))


@click.command()
@experiments_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@user_errors(SourceError, StatusError)
def status(experiments: Path, as_json: bool) -> None:
    """Runs, models, responses per arm, failed and pending work, the warehouse, and the next rerun's plan.

    Read from the shards and the specs; nothing is sent to any endpoint and nothing is built.

    \b
    Example:
        evalhouse status
        evalhouse status --json | jq .next_rerun
    """
    from evalhouse.ops.status import status as read_status

    result = read_status(paths(), experiments)
    click.echo(json.dumps(result.to_dict(), indent=2, default=str) if as_json else result.render())


@click.command()
@experiments_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the readable report.")
@user_errors(SourceError, SpecError)
def validate(experiments: Path, as_json: bool) -> None:
    """Check the warehouse against the experiments: exit 0 when every check passes, 1 when one fails.

    \b
    Checks (the plan's Phase 2):
      counts    expected vs collected responses per model × seed
      coverage  every kind × digit answered for every model × arm
      accuracy  accuracy and Wilson intervals in [0, 1], n_correct <= n
      verdicts  no answered response without a verdict; the marts count them all
      balance   equal answered responses across arms per model × seed
    What is expected comes from experiments/*.toml; models no spec names are checked against the
    problems, seeds and arms they have.

    \b
    Example:
        evalhouse validate && echo ready for analysis
    """
    from evalhouse.ops.checks import validate as run_checks

    result = run_checks(paths(), experiments)
    click.echo(json.dumps(result.to_dict(), indent=2, default=str) if as_json else result.render())
    sys.exit(0 if result.passed else 1)


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write [default: data/outputs/report.html].",
)
@click.option(
    "--n-boot",
    default=1000,
    show_default=True,
    type=click.IntRange(100),
    help="Bootstrap resamples of the analyses' intervals.",
)
@experiments_option
@user_errors(SourceError)
def report(out: Path | None, n_boot: int, experiments: Path) -> None:
    """Write one self-contained HTML report: headline tables, figures, statistics, validation.

    Figures are embedded and the style is inline, so the one file opens offline and can be shared as is.
    The statistics are those of `evalhouse analyze all`, computed afresh from the warehouse.

    \b
    Example:
        evalhouse report --out report.html
    """
    import tempfile

    from evalhouse.ops.report import build_report, write_report

    p = paths()
    with tempfile.TemporaryDirectory(prefix="evalhouse-report-") as analysis_dir:
        built = build_report(p, experiments, analysis_dir=Path(analysis_dir), n_boot=n_boot)
    target = write_report(built, out or p.outputs / "report.html")
    click.echo(f"report: {target} ({target.stat().st_size / 1024:.0f} KB, {len(built.sections)} sections)")


@click.command()
@click.option("--dry-run", is_flag=True, help="Only say which shards cannot be read; move nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors(RepairError)
def repair(dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Set unreadable shards aside, write again what the journal holds, and name the responses lost.

    Every Parquet file under data/raw is read whole. One that cannot be read (cut short, overwritten)
    is moved to data/quarantined-shards/ under the same path, where no reader sees it, with a .json
    record beside it; `evalhouse status` lists them. A collector run's rows still in its journal are
    written again; the response ids that were in the shard and are now stored nowhere are listed (from
    the shard's readable pages and the warehouse's last build), and the next `evalhouse ingest run` of
    the plan asks for them again. An imported shard names the files to import again.

    \b
    Example:
        evalhouse repair --dry-run
        evalhouse repair && evalhouse build
    """
    from evalhouse.ops.repair import repair as run_repair

    result = run_repair(paths(), dry_run=dry_run, progress=not quiet and not as_json)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for line in result.lines():
        click.echo(line)
