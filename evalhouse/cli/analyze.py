"""`evalhouse analyze …`: statistics and figures over the marts (or a file).

Each analysis prints its console summary and writes JSON (`--json`) and LaTeX (`--latex`) on request.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from evalhouse.analysis.sources import COLLECT_HINT, SourceError, empty_hint, load_frame
from evalhouse.config import paths
from evalhouse.files import write_atomic
from evalhouse.vocabulary import ARM_CODES

from .common import user_errors


@click.group()
def analyze() -> None:
    """Statistics and figures read from the marts (or a file)."""


def write_json(data: dict, target: Path) -> None:
    from evalhouse.analysis.format import jsonable

    write_atomic(target, json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n")


def _emit(result, json_out: Path | None, latex_out: Path | None, quiet: bool = False) -> None:
    if not quiet:
        click.echo(result.summary())
    if json_out:
        write_json(result.to_dict(), json_out)
        click.echo(f"JSON: {json_out}")
    if latex_out:
        write_atomic(latex_out, result.latex() + "\n")
        click.echo(f"LaTeX: {latex_out}")


def output_options(fn):
    """--json and --latex, shared by every analysis."""
    fn = click.option(
        "--latex", "latex_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the LaTeX rendering here."
    )(fn)
    fn = click.option(
        "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the results as JSON here."
    )(fn)
    return fn


@analyze.command("mixedlm")
@click.option("--from", "source", required=True, help="Warehouse table (marts.model_metrics) or a .csv/.parquet file.")
@click.option(
    "--formula",
    required=True,
    help='An lme4 formula, e.g. "value ~ is_flagship + (1|lab)" or "cbind(k, n - k) ~ arm + (1|model) + (1|problem_id)".',
)
@click.option(
    "--group",
    default=None,
    help="For a formula without random terms: add (1|COL). With them: the grouping factor the legacy keys describe.",
)
@click.option(
    "--family",
    type=click.Choice(["gaussian", "binomial"]),
    default="gaussian",
    show_default=True,
    help="gaussian: lmer; binomial: glmer with the logit link (Laplace).",
)
@click.option(
    "--df",
    "df_method",
    type=click.Choice(["satterthwaite", "kenward-roger", "z"]),
    default=None,
    help="Fixed-effect tests: Satterthwaite t (lmerTest; default for gaussian), Kenward-Roger t (pbkrtest; REML) "
    "or Wald z (the only choice for binomial).",
)
@click.option("--where", default=None, help="SQL filter on the source, e.g. \"metric = 'hubris'\".")
@click.option("--ml", is_flag=True, help="Maximum likelihood instead of REML (gaussian).")
@output_options
@user_errors(SourceError, ValueError)
def mixedlm_cmd(source, formula, group, family, df_method, where, ml, json_out, latex_out) -> None:
    """Fit a mixed model written in lme4's syntax, as lmer / glmer fit it.

    Random terms: (1|g), (x|g) (correlated intercept and slope), (0+x|g), (1|g)+(1|h) crossed, (1|g/h)
    nested, (1|g:h); a formula that cannot be fitted exactly as written is refused. Gaussian: REML by
    default, t tests with Satterthwaite's df as lmerTest prints them. Binomial: the Laplace approximation
    as glmer (nAGQ = 1) and Wald z tests. Singular fits are reported as lme4's isSingular.

    \b
    Example:
        evalhouse analyze mixedlm --from marts.model_metrics --where "metric = 'hubris'" \\
            --formula "value ~ is_flagship + (1|lab)" --json out/mixedlm.json
        evalhouse analyze mixedlm --from responses.parquet --family binomial \\
            --formula "correct ~ arm + (1|model) + (1|problem_id)" --json out/glmm.json
    """
    from evalhouse.analysis.lmm import fit

    if ml and family == "binomial":
        raise click.ClickException("--ml is for gaussian models: a binomial GLMM is always fitted by ML (Laplace)")
    frame = load_frame(source, where)
    if frame.empty:
        raise click.ClickException(
            f"{source} where {where} has no rows" if where else f"{source} has no rows{empty_hint(source)}"
        )
    result = fit(formula, frame, family=family, reml=not ml, df=df_method, group=group)
    _emit(result, json_out, latex_out)


def _pair(value: str) -> tuple[str, str]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) != 2:
        raise click.BadParameter(f"{value!r}: give two metrics separated by a comma, e.g. d1,d2")
    return parts[0], parts[1]


@analyze.command("lab-effects")
@click.option("--metric", required=True, help="The per-model metric to explain, e.g. hubris.")
@click.option(
    "--from",
    "source",
    default="marts.model_metrics",
    show_default=True,
    help="marts.model_metrics, or a .csv/.parquet file (long: metric,value; or one column per metric).",
)
@click.option(
    "--exclude-model",
    "exclude_models",
    multiple=True,
    metavar="NAMES",
    help="A sensitivity subset without these models (comma-separated; id, display name or alias). Repeatable.",
)
@click.option(
    "--exclude-category",
    "exclude_categories",
    multiple=True,
    metavar="NAMES",
    help="A sensitivity subset without models of these categories (e.g. reasoning). Repeatable.",
)
@click.option(
    "--correlate",
    "correlations",
    multiple=True,
    metavar="A,B",
    help="Correlate two metrics (Pearson, Spearman) over models that have both. Repeatable.",
)
@click.option("--predictor", default="is_flagship", show_default=True, help="Binary (0/1) model-level predictor.")
@click.option("--group", default="lab", show_default=True, help="Random-intercept grouping.")
@click.option("--ml", is_flag=True, help="Maximum likelihood instead of REML.")
@click.option(
    "--family",
    type=click.Choice(["gaussian", "binomial"]),
    default="gaussian",
    show_default=True,
    help="binomial: the outcome is correctness (--metric accuracy), from marts.acc_model_arm_instance with"
    " marts.models, fitted as a GLMM with lab, model and instance random intercepts.",
)
@click.option(
    "--where",
    default=None,
    help="binomial: SQL filter on marts.acc_model_arm_instance, e.g. \"arm = 'nl'\".",
)
@click.option(
    "--figure",
    "figure_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw the forest plot of the effect across subsets here (PNG and PDF).",
)
@output_options
@user_errors(SourceError, ValueError)
def lab_effects_cmd(
    metric,
    source,
    exclude_models,
    exclude_categories,
    correlations,
    predictor,
    group,
    ml,
    family,
    where,
    figure_out,
    json_out,
    latex_out,
) -> None:
    """Does a model-level effect survive treating models of one lab as related?

    Naive Cohen's d and t-test; the mixed model METRIC ~ PREDICTOR + (1|lab) on all models and on each
    sensitivity subset; correlations of metric pairs; and a LaTeX paragraph whose claims follow the
    numbers (it says "singular" only for a singular fit, "robust" only if no subset changes the result).

    With --family binomial the outcome is each response's correctness: the GLMM accuracy ~ PREDICTOR
    (+ arm) + (1|lab) + (1|model) + (1|problem_id) as glmer fits it, each model × instance × arm one
    trial with its mean correctness (the instance is the unit), beside the naive t-test of the models'
    accuracies.

    \b
    Example:
        evalhouse analyze lab-effects --metric hubris --exclude-model Phi-4 \\
            --exclude-category reasoning --correlate d1,d2 --json out/lab_effects.json --latex out/lab_effects.tex
        evalhouse analyze lab-effects --metric accuracy --family binomial --where "arm = 'nl'"
    """
    from evalhouse.analysis.figures import mixed_effect_forest
    from evalhouse.analysis.lab_effects import (
        exclude_category,
        exclude_model,
        lab_effects,
        lab_effects_binomial,
        load_metrics,
    )

    subsets = [exclude_model(m) for m in exclude_models] + [exclude_category(c) for c in exclude_categories]
    if family == "binomial":
        if metric != "accuracy" or correlations or ml:
            raise click.ClickException(
                "--family binomial explains correctness: give --metric accuracy, without --correlate or --ml"
            )
        instances = load_frame("marts.acc_model_arm_instance", where)
        if instances.empty:
            raise click.ClickException(
                "marts.acc_model_arm_instance has no rows" + (f" where {where}" if where else "")
            )
        result = lab_effects_binomial(instances, load_frame("marts.models"), subsets, predictor, group)
    else:
        if where:
            raise click.ClickException("--where filters the instance mart of --family binomial")
        metrics = load_metrics(source)
        if metrics.empty:
            raise click.ClickException(f"{source} has no metrics{empty_hint(source)}")
        result = lab_effects(
            metrics,
            metric,
            subsets,
            [_pair(c) for c in correlations],
            predictor=predictor,
            group=group,
            reml=not ml,
        )
    _emit(result, json_out, latex_out)
    if figure_out:
        for path in mixed_effect_forest(result, figure_out):
            click.echo(f"figure: {path}")


def _criteria(min_instances: int | None, alpha: float):
    from evalhouse.analysis.criteria import Criteria

    defaults = Criteria()
    return Criteria(
        alpha=alpha,
        min_instances_per_model=defaults.min_instances_per_model if min_instances is None else min_instances,
    )


@analyze.command("code-vs-nl")
@click.option("--treatment", default="code", show_default=True, help="The arm tested against the control.")
@click.option("--control", default="nl", show_default=True, help="The baseline arm.")
@click.option(
    "--where",
    default=None,
    help="SQL filter on marts.acc_model_arm_instance (model, lab, problem_id, kind, digit, arm, n, n_correct),"
    " e.g. \"kind in ('add','mul')\".",
)
@click.option("--n-boot", default=1000, show_default=True, type=click.IntRange(100), help="Bootstrap resamples.")
@click.option("--seed", default=0, show_default=True, type=int, help="Bootstrap seed.")
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Family-wise significance level (Bonferroni over models).",
)
@click.option(
    "--min-instances",
    type=click.IntRange(1),
    default=None,
    help="Paired instances per model the sample-size criterion asks for [default: the plan's 3000].",
)
@click.option(
    "--figures",
    "figures_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also draw the figures into this folder.",
)
@click.option("--no-glmm", is_flag=True, help="Leave out the GLMM (its fit is the slowest step on millions of rows).")
@output_options
@user_errors(SourceError, ValueError)
def code_vs_nl_cmd(
    treatment, control, where, n_boot, seed, alpha, min_instances, figures_dir, no_glmm, json_out, latex_out
) -> None:
    """Code vs NL, the scale-up plan's Phases 3–4, from marts.acc_model_arm_instance.

    The problem instance is the unit of every test and interval (an instance's seeds and samples are
    averaged into its accuracy, so more seeds never shrink a p-value). The primary effect: the binomial
    GLMM accuracy ~ arm + (1|model) + (1|problem_id) as glmer fits it (log-odds and odds ratio with Wald
    intervals, every kind pooled and per kind). Accuracy per model × arm × kind
    with 95% intervals from a bootstrap of instances within kind × digit; per model, over the instances
    answered under both arms, the Wilcoxon signed-rank test and paired t-test of the per-instance
    differences (R's wilcox.test / t.test, paired), McNemar's test (exact on one binary pair per instance,
    else Durkalski's clustered version), d_z and Cohen's h, Bonferroni and Holm corrections; repeated-
    measures ANOVAs with the instance as subject; and the plan's success / failure / ambiguous criteria.

    \b
    Example:
        evalhouse analyze code-vs-nl --json out/code_vs_nl.json --latex out/code_vs_nl.tex --figures out/figures
    """
    from evalhouse.analysis.bootstrap import SmallCellWarning
    from evalhouse.analysis.code_vs_nl import code_vs_nl
    from evalhouse.analysis.figures import draw_all
    from evalhouse.analysis.sources import load_instances

    instances = load_instances(where=where)
    if instances.empty:
        raise click.ClickException(
            "marts.acc_model_arm_instance has no answered responses"
            + (f" where {where}" if where else f"; {COLLECT_HINT}")
        )
    arms = sorted(set(instances["arm"]))
    for arm in (treatment, control):
        if arm in ARM_CODES and arm not in arms:  # an arm never collected (an unknown one: the library says so)
            raise click.ClickException(
                f"no responses in arm {arm!r} (arms: {', '.join(arms)}); collect it "
                f"(`evalhouse ingest run … --arms {','.join(ARM_CODES)}`), then run `evalhouse build`"
            )
    with warnings.catch_warnings():  # small cells are listed under Notes in the output itself
        warnings.simplefilter("ignore", SmallCellWarning)
        result = code_vs_nl(
            instances,
            treatment,
            control,
            n_boot=n_boot,
            seed=seed,
            criteria=_criteria(min_instances, alpha),
            glmm=not no_glmm,
        )
    _emit(result, json_out, latex_out)
    if figures_dir:
        for path in draw_all(figures_dir, accuracy=result):
            click.echo(f"figure: {path}")


@analyze.command("figures")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the figures [default: data/outputs/figures].",
)
@click.option("--metric", default=None, help="Also draw the lab-effects forest plot of this metric.")
@click.option("--exclude-model", "exclude_models", multiple=True, metavar="NAMES", help="Subset for the forest plot.")
@click.option(
    "--exclude-category", "exclude_categories", multiple=True, metavar="NAMES", help="Subset for the forest plot."
)
@user_errors(SourceError, ValueError)
def figures_cmd(out_dir: Path | None, metric, exclude_models, exclude_categories) -> None:
    """Draw every figure (PNG and PDF) from the warehouse.

    Accuracy by arm (a line per model, coloured by lab, and the all-models line), the same per kind,
    accuracy by digit, the Code − NL heatmap; with --metric, the forest plot of the lab-effects model.

    \b
    Example:
        evalhouse analyze figures --out figures/ --metric hubris --exclude-category reasoning
    """
    from evalhouse.analysis.outputs import figures_from_warehouse

    out_dir = out_dir or paths().outputs / "figures"
    written = figures_from_warehouse(out_dir, metric, exclude_models, exclude_categories)
    if not written:
        raise click.ClickException(
            "nothing to draw: the warehouse has no graded responses"
            + ("" if metric else " (and no --metric was given)")
            + f"; {COLLECT_HINT}"
        )
    for path in written:
        click.echo(f"figure: {path}")


@analyze.command("all")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for every output [default: data/outputs/analysis].",
)
@click.option("--n-boot", default=1000, show_default=True, type=click.IntRange(100), help="Bootstrap resamples.")
@user_errors(SourceError, ValueError)
def all_cmd(out_dir: Path | None, n_boot: int) -> None:
    """Refresh every analysis output the warehouse supports (JSON, LaTeX, text, figures).

    Code vs NL when there are graded responses; lab effects for every metric in marts.model_metrics
    whose models have both levels of is_flagship. What cannot be analysed is listed, not fatal.

    \b
    Example:
        evalhouse analyze all --out data/outputs/analysis
    """
    from evalhouse.analysis.outputs import refresh

    report = refresh(out_dir or paths().outputs / "analysis", n_boot=n_boot)
    if not report.written:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in report.skipped.items())
        raise click.ClickException(
            f"nothing to analyse ({reasons}); {COLLECT_HINT}, or load metrics (`evalhouse ingest metrics FILE.csv`)"
        )
    for path in report.written:
        click.echo(f"wrote: {path}")
    for name, reason in report.skipped.items():
        click.echo(f"skipped {name}: {reason}")
