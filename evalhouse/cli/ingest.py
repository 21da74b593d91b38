"""`evalhouse ingest …`: collect responses, load metrics."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evalhouse.config import DEFAULT_BASE_URL, api_key, paths
from evalhouse.files import DiskFull
from evalhouse.ingest.collector import Collector, Interrupted, RunAborted, RunConfig, collect
from evalhouse.ingest.metrics import MetricsError, load_metrics
from evalhouse.ingest.providers import PROVIDERS
from evalhouse.ingest.spec import SpecError, load_spec, make_config
from evalhouse.ingest.store import UnreadableStore
from evalhouse.storage import StorageError, local_snapshot, mirror_changes

from .common import csv_list, user_errors


@click.group()
def ingest() -> None:
    """Take data in: collect from an API, import legacy results and harness logs, load metrics."""


# The options that define a collection: `ingest run` and `ingest plan` take the same ones (and specs).
_CONFIG_OPTIONS = [
    click.option(
        "--spec",
        "spec_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Experiment spec (TOML); flags override it.",
    ),
    click.option("--base-url", default=None, help=f"OpenAI-compatible endpoint [default: {DEFAULT_BASE_URL}]."),
    click.option(
        "--api",
        type=click.Choice(sorted(PROVIDERS)),
        default=None,
        help="The endpoint's wire protocol [default: openai-chat].",
    ),
    click.option("--model", "models", multiple=True, help="Model id; repeat for several."),
    click.option("--kinds", help="Comma-separated problem kinds, e.g. add,sub,lcs."),
    click.option("--digits", help="Comma-separated digits (difficulties), e.g. 2,4,8."),
    click.option("--n", type=int, help="Instances per kind and digit."),
    click.option("--seeds", help="Comma-separated replicate seeds [default: 0]."),
    click.option("--arms", help="Comma-separated arms [default: nl,sim,controlsim,code]."),
    click.option("--concurrency", type=int, help="Requests in flight (the sliding window) [default: 16]."),
    click.option("--requests-per-minute", type=float, help="Client-side cap on requests a minute [default: none]."),
    click.option(
        "--tokens-per-minute", type=float, help="Client-side cap on prompt+completion tokens a minute [default: none]."
    ),
    click.option("--problem-seed", type=int, help="Seed of the problem generator [default: 0]."),
    click.option("--samples", type=int, help="Samples per (model, problem, arm, seed) [default: 1]."),
    click.option("--temperature", type=float, help="Sampling temperature [default: 0]."),
    click.option("--max-tokens", type=int, help="Completion token cap [default: 4096]."),
    click.option(
        "--max-cost",
        type=float,
        help="USD cap on the plan's total cost, stored responses included: no request "
        "is started that could pass it [default: none].",
    ),
    click.option("--checkpoint-every", type=int, help="Write a shard every N responses [default: 1000]."),
    click.option("--exec-workers", type=int, help="Parallel sandboxed code runs (code arm) [default: 2]."),
    click.option(
        "--unsafe-sandbox",
        is_flag=True,
        default=None,
        help="Run the code arm even where no sandbox beyond rlimits can be built (model-written code "
        "could then read your files and reach the network) [default: refuse].",
    ),
    click.option("--max-attempts", type=int, help="Attempts per request before it is stored as an error [default: 6]."),
    click.option("--max-retry-wait", type=float, help="Longest Retry-After to wait out, in seconds [default: 300]."),
    click.option("--timeout", "timeout_s", type=float, help="Seconds to wait for one answer [default: 120]."),
    click.option(
        "--require-parameters/--no-require-parameters",
        default=None,
        help="OpenRouter: only use providers that honour every parameter (seed, temperature).",
    ),
    click.option(
        "--allow-fallbacks/--no-allow-fallbacks",
        default=None,
        help="OpenRouter: let the request fall back to other providers [provider default: allow].",
    ),
    click.option("--provider-order", help="OpenRouter: comma-separated providers to try, in order."),
    click.option("--retry-errors", is_flag=True, default=None, help="Ask again for responses stored as errors."),
    click.option("--resume/--no-resume", default=None, help="Skip what is already stored [default: resume]."),
]

EXIT_CAP_REACHED = 3  # `ingest run` stopped at --max-cost; what landed is stored


class PlanFailed(Exception):
    """The plan found a problem that would stop or waste a run."""


def config_options(fn):
    """Apply the options that define a collection (see `_CONFIG_OPTIONS`)."""
    for option in reversed(_CONFIG_OPTIONS):
        fn = option(fn)
    return fn


def _config(spec_file, models, kinds, digits, seeds, arms, provider_order, **rest) -> RunConfig:
    """The spec, overridden by the flags given beside it."""
    spec = load_spec(spec_file) if spec_file else {}
    flags = dict(
        models=list(models) or None,
        kinds=csv_list(kinds),
        digits=csv_list(digits, int),
        seeds=csv_list(seeds, int),
        arms=csv_list(arms),
        provider_order=csv_list(provider_order),
        **rest,
    )
    return make_config(spec, flags)


@ingest.command("run")
@config_options
@click.option(
    "--preflight/--no-preflight",
    default=None,
    help="Check the key, the model ids and the credit left before the first request [default: on].",
)
@click.option("--run-id", default=None, help="Name of this run [default: generated].")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar [default: on].")
@user_errors(SpecError, RunAborted, StorageError, UnreadableStore)
def run_cmd(run_id, **options) -> None:
    """Collect responses from an OpenAI-compatible endpoint into Parquet shards.

    Before the first request a pre-flight checks the key, the model ids and the credit left against the
    estimated cost (as `evalhouse ingest plan` does) and stops with an Error line if one fails. A sliding
    window keeps --concurrency requests in flight; 429, 5xx, timeouts and dropped connections
    are retried with jittered exponential backoff (a Retry-After is waited out at least); what still
    fails is stored as an error row and asked again with --retry-errors. Every answer is journaled as
    it lands, so a killed run resumes (run the same command again) without losing or repeating any.
    Two runs over one data folder at once share the plan (each takes only work the other has not
    claimed) instead of paying twice. A full disk stops the run with an Error line and keeps what was
    journaled: free space and run the same command again.
    With --max-cost, no request is started that could take the plan's total cost past the cap; the run
    then lets those in flight finish, stores them and exits with status 3 (run again with a higher cap
    to go on). The API key is read from EVALHOUSE_API_KEY (or OPENROUTER_API_KEY), never from a flag.

    \b
    Example:
        evalhouse ingest run --base-url http://127.0.0.1:8765/v1 --model synthetic/atlas-large \\
            --kinds add,sub --digits 2,4 --n 10 --seeds 0,1
        evalhouse ingest run --spec experiments/scale_up.toml --concurrency 32 --max-cost 150
    """
    config = _config(**options)
    p = paths()
    try:
        run, summary = collect(config, p, api_key(), run_id, notify=lambda line: click.echo(line, err=True))
    except Interrupted as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(130) from None
    except DiskFull as exc:
        raise click.ClickException(
            f"{exc}: the run stopped; every answer journaled before is kept. "
            "Free some space and run the same command again to resume."
        ) from None
    click.echo(f"run {run}")
    for line in summary.lines():
        click.echo("  " + line)
    click.echo(f"  shards: {p.stored(p.responses / 'source=collector' / f'run_id={run}')}")
    click.echo(f"  log:    {p.logs / f'ingest-{run}.log'}")
    if summary.cap_reached:
        click.echo(
            f"Stopped at --max-cost {config.max_cost:g}: ${summary.spent_before + summary.spent:.4f} spent on "
            f"this plan, {summary.unasked} responses not asked. To go on, run the same command with a higher "
            "--max-cost: what is stored is kept and not asked again.",
            err=True,
        )
        raise SystemExit(EXIT_CAP_REACHED)


@ingest.command("plan")
@config_options
@user_errors(SpecError, PlanFailed, StorageError, UnreadableStore)
def plan_cmd(**options) -> None:
    """Show what `ingest run` with the same options would ask and cost, and check it can; sends no completion.

    Per model × arm: the requests still to ask (what is stored is left out, as a run would), estimated
    prompt and completion tokens and their cost at the endpoint's prices (OpenRouter's GET /models).
    Checks the key and the credit left on it (GET /key) and that every model id exists. Exits 1 with an
    Error line naming the problem when a model is unknown, the key is refused, or the estimate exceeds
    the credit left. Endpoints without these routes (vLLM, Ollama) get the checks they can answer.

    \b
    Example:
        evalhouse ingest plan --spec experiments/scale_up.toml
        evalhouse ingest plan --model openai/gpt-5-nano --kinds add,lcs --digits 2,4 --n 30 --max-cost 20
    """
    config = _config(**options)
    plan = Collector(config, paths(), api_key()).plan()
    for line in plan.lines_out():
        click.echo(line)
    if plan.blockers:
        raise PlanFailed("; ".join(plan.blockers))


@ingest.command("metrics")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_errors(MetricsError, StorageError)
def metrics_cmd(file: Path) -> None:
    """Load per-model metrics from a CSV (a `model` column; other numeric columns are metrics).

    Optional `lab`, `category` and `is_flagship` columns describe each model; otherwise the model
    registry does. An empty cell is a missing value, not a zero. Run `evalhouse build` afterwards.

    \b
    Example:
        evalhouse ingest metrics examples/hubris_models.csv
    """
    where = paths()
    result = load_metrics(file, where.stored(where.metrics))
    click.echo(
        f"loaded {result.rows} values: {result.models} models × {len(result.metrics)} metrics "
        f"({', '.join(result.metrics)}); {result.missing_values} missing cells skipped"
    )
    if result.unknown_models:
        click.echo(f"  not in the model registry (kept as given): {', '.join(result.unknown_models)}")
    if result.skipped_columns:
        click.echo(f"  non-numeric columns ignored: {', '.join(result.skipped_columns)}")
    click.echo(f"  shard: {result.shard}")


@ingest.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--model", default=None, help="Model id for files that record none (the older per-run CSVs).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar [default: on].")
@click.option("--verbose", "-v", is_flag=True, help="List every file with its counts, and the files skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of text.")
@click.option("--memory-limit", default="2GB", show_default=True, help="Memory DuckDB may use (it spills beyond).")
def import_cmd(sources, model, progress, verbose, as_json, memory_limit) -> None:
    """Import legacy result files and other harnesses' logs, files or folders.

    Legacy results: res.jsonl, res.csv, run_*_results_seed_N.csv. Harness logs: inspect_ai .eval and
    .json logs, lm-evaluation-harness results_*.json (with the samples_*.jsonl beside them), HELM run
    folders (run_spec.json, stats.json, per_instance_stats.json, scenario_state.json) and Every Eval
    Ever .json/.jsonl files. Folders are searched recursively and each file's format is detected;
    aggregate files are recognised and skipped. Records that cannot be read go to the quarantine with
    file, line and reason. Importing the same files again changes nothing. A file of no known format
    named here is refused, and a folder in which nothing is recognised ends in an Error line that says
    what it holds. Run `evalhouse build` afterwards.

    \b
    Example:
        evalhouse ingest import ../shared/realdata/toolproj
        evalhouse ingest import run_20250924_005007_results_seed_0.csv --model deepseek-ai/deepseek-coder-7b-instruct-v1.5
        evalhouse ingest import logs/ lm-eval-output/ benchmark_output/runs/my-suite/
    """
    from evalhouse.ingest.importers import LegacyImportError, Options, import_paths

    options = Options(model=model, progress=progress, memory_limit=memory_limit)
    where = paths()
    # With EVALHOUSE_DATA=s3://… the import runs in the local data folder (which remembers what was imported,
    # for the newest-copy rule), then repeats its changes in the bucket.
    before = local_snapshot(where.raw) if where.data_uri else None
    try:
        summary = import_paths([Path(s) for s in sources], where, options)
    except LegacyImportError as exc:
        raise click.ClickException(str(exc)) from None
    published = None
    if before is not None:
        try:
            published = mirror_changes(where.raw, str(where.stored(where.raw)), before)
        except StorageError as exc:
            raise click.ClickException(
                f"{exc}; the import is complete in {where.raw}: run it again to retry the upload"
            ) from None
    if as_json:
        extra = (
            {}
            if published is None
            else {
                "bucket": str(where.stored(where.raw)),
                "objects_written": published[0],
                "objects_deleted": published[1],
            }
        )
        click.echo(json.dumps(summary.as_dict() | extra, indent=2))
    else:
        for line in summary.lines(verbose=verbose):
            click.echo(line)
        if published is not None:
            click.echo(f"bucket: {published[0]} object(s) written to {where.stored(where.raw)}, {published[1]} deleted")
    problems = []
    if summary.refused:
        names = ", ".join(str(p) for p, _ in summary.refused)
        problems.append(f"{len(summary.refused)} file(s) not imported: {names} (reasons above)")
    if summary.unrecognised:
        problems.append("nothing recognised in " + "; ".join(summary.unrecognised_lines()))
    if problems:
        raise click.ClickException("; ".join(problems))
