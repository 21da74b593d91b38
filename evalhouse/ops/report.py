"""`evalhouse report`: one self-contained HTML file with the headline tables, figures and statistics.

Figures are embedded as base64 PNG and the style is inline, so the file opens anywhere, offline, and can
be mailed as it is. The statistics and figures are the analysis package's (`analysis.outputs.refresh`:
Code vs NL with instance-bootstrap intervals and paired tests, lab effects per metric), computed once
per report into `analysis_dir`; the tables read the marts. The report is a list of sections; each is one
small function that returns a Section of blocks (paragraphs, notes, tables, preformatted text) or None
when its data is absent, so a new analysis becomes a new function in SECTIONS. The page is the jinja2
template `templates/report.html.j2`, autoescaped: text from the data never becomes markup. A section may
carry results objects (anything with `to_dict()`, optionally `latex()`); `evalhouse rerun` saves those
beside the report.
"""

from __future__ import annotations

import base64
import contextlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pandas as pd

from evalhouse import __version__
from evalhouse.analysis.format import p_value, slug
from evalhouse.analysis.outputs import Refresh, refresh
from evalhouse.analysis.sources import COLLECT_HINT, SourceError, warehouse
from evalhouse.config import Paths
from evalhouse.files import write_atomic
from evalhouse.ingest.spec import SpecError
from evalhouse.vocabulary import ARM_LABELS, arm_order


@dataclass
class Figure:
    title: str
    png: bytes
    caption: str = ""

    @property
    def base64(self) -> str:
        return base64.b64encode(self.png).decode()


@dataclass
class Block:
    """One piece of a section: a paragraph (p), a note, a heading (h3), preformatted text (pre), a bullet
    list, or a table whose cells are text or (text, small note) pairs."""

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    headers: list[str] | None = None
    rows: list[list[Any]] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)
    status_col: int | None = None

    def cell_class(self, column: int, cell: Any) -> str:
        classes = ["num"] if column in self.numeric else []
        if column == self.status_col:
            classes.append("pass" if cell == "PASS" else "fail")
        return " ".join(classes)


def p(text: str) -> Block:
    return Block("p", text)


def note(text: str) -> Block:
    return Block("note", text)


def table(headers: list[str] | None, rows: list[list[Any]], numeric: set[int], status_col: int | None = None) -> Block:
    return Block("table", headers=headers, rows=rows, numeric=numeric, status_col=status_col)


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass
class Context:
    """What a section reads: the warehouse (read-only), the working folder's places, the analyses' results."""

    con: duckdb.DuckDBPyConnection
    paths: Paths
    experiments: Path
    analysis: Refresh

    def figure(self, stem: str) -> Path | None:
        """The PNG the analyses drew under this name, if they drew it."""
        return next((p for p in self.analysis.written if p.suffix == ".png" and p.stem == stem), None)

    def has(self, table: str) -> bool:
        schema, name = table.split(".")
        return bool(
            self.con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()[0]
        )

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()


@dataclass
class Report:
    title: str
    generated_at: str
    sections: list[Section]
    analysis: Refresh  # what the analyses wrote and could not analyse

    @property
    def results(self) -> dict[str, Any]:
        return {name: r for s in self.sections for name, r in s.results.items()}

    def html(self) -> str:
        return _TEMPLATES.get_template("report.html.j2").render(
            report=self, css=_TEMPLATES.loader.get_source(_TEMPLATES, "report.css")[0], version=__version__
        )


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("evalhouse.ops", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
)


def build_report(paths: Paths, experiments: Path, analysis_dir: Path, n_boot: int = 1000) -> Report:
    """Every section that has data, from the warehouse at `paths` (SourceError when there is none).

    The analyses write their JSON, text, LaTeX and figures into `analysis_dir` on the way.
    """
    if not paths.warehouse.exists():
        raise SourceError(f"no warehouse at {paths.warehouse}; run `evalhouse build` first")
    with warehouse(paths.warehouse) as con:
        _something_to_report(con, paths.warehouse)
    analysis = refresh(analysis_dir, paths.warehouse, n_boot=n_boot)
    with warehouse(paths.warehouse) as con:
        ctx = Context(con, paths, experiments, analysis)
        sections = [s for s in (_guarded(make, ctx) for make in SECTIONS) if s is not None]
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Report("evalhouse report", now, sections, analysis)


class NothingToReport(SourceError):
    """The warehouse holds no response, metric or benchmark score: a report would be empty tables."""


def _something_to_report(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    held = 0
    for mart in ("run_health", "model_metrics", "benchmark_scores"):
        with contextlib.suppress(duckdb.CatalogException):  # an older warehouse: its sections say so
            held += con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
    if not held:
        raise NothingToReport(
            f"nothing to report: {path} holds no responses, metrics or benchmark scores; {COLLECT_HINT}"
        )


def _guarded(make: Callable[[Context], Section | None], ctx: Context) -> Section | None:
    """A section whose tables changed shape says so in the report instead of sinking the whole report."""
    try:
        return make(ctx)
    except duckdb.Error as exc:
        title = make.__name__.replace("_", " ").capitalize()
        return Section(title, [note(f"not available: {str(exc).splitlines()[0]}")])


def write_report(report: Report, out: Path) -> Path:
    """Write atomically: a reader (or a mail job) never picks up half a report."""
    return write_atomic(out, report.html())


# -- sections --------------------------------------------------------------------------------------


def overview(ctx: Context) -> Section | None:
    if not ctx.has("marts.run_health"):
        return None
    total, answered, models = ctx.con.execute(
        "select coalesce(sum(n_total), 0), coalesce(sum(n_answered), 0), count(distinct model) from marts.run_health"
    ).fetchone()
    problems, kinds = ctx.con.execute(
        "select count(distinct problem_id), count(distinct kind) from marts.acc_model_arm_instance"
    ).fetchone()
    seeds, synthetic = ctx.con.execute(
        "select count(distinct seed), coalesce(bool_or(model like 'synthetic/%'), false) from marts.coverage"
    ).fetchone()
    built = datetime.fromtimestamp(ctx.paths.warehouse.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    rows = [
        ["warehouse", str(ctx.paths.warehouse)],
        ["last built", built],
        ["models", models],
        ["problem instances", problems],
        ["kinds", kinds],
        ["seeds", seeds],
        ["responses stored", total],
        ["answered (no API error)", answered],
    ]
    blocks = [table(None, rows, numeric=set())]
    if synthetic:
        blocks.insert(
            0,
            note(
                "These models are simulated (synthetic): the figures show the pipeline at work, not the "
                "behaviour of any real model."
            ),
        )
    return Section("Overview", blocks)


def headline_accuracy(ctx: Context) -> Section | None:
    if not ctx.has("marts.acc_model_arm"):
        return None
    cells = ctx.df("select model, lab, arm, n, accuracy, ci_low, ci_high from marts.acc_model_arm")
    if cells.empty:
        return None
    arms = _arms(cells)
    rows = [
        [model, lab, *[_acc_cell(g.set_index("arm"), a) for a in arms]]
        for (model, lab), g in cells.groupby(["model", "lab"], sort=True)
    ]
    headers = ["model", "lab", *[ARM_LABELS.get(a, a) for a in arms]]
    text = (
        "Accuracy per model and arm over every kind (marts.acc_model_arm), with Wilson 95% intervals whose "
        "unit is the problem instance, and the number of answered responses (API errors are not counted; an "
        "unparseable answer counts as wrong)."
    )
    return Section("Accuracy by model and arm", [p(text), table(headers, rows, numeric=set(range(2, len(headers))))])


def figures(ctx: Context) -> Section | None:
    drawn = [(ctx.figure(stem), caption) for stem, caption in FIGURES.items()]
    drawn = [Figure(caption, png.read_bytes(), caption) for png, caption in drawn if png is not None]
    if not drawn:
        return None
    return Section(
        "Figures",
        [p("Intervals are 95% instance-bootstrap intervals (resampling problem instances within kind × digit).")],
        figures=drawn,
    )


def accuracy_by_kind(ctx: Context) -> Section | None:
    if not ctx.has("marts.acc_arm_kind"):
        return None
    cells = ctx.df("select kind, arm, n, accuracy, ci_low, ci_high from marts.acc_arm_kind")
    if cells.empty:
        return None
    arms = _arms(cells)
    rows = [[kind, *[_acc_cell(g.set_index("arm"), a) for a in arms]] for kind, g in cells.groupby("kind", sort=True)]
    headers = ["kind", *[ARM_LABELS.get(a, a) for a in arms]]
    return Section(
        "Accuracy by kind and arm",
        [
            p("Every model pooled (marts.acc_arm_kind), Wilson 95% intervals whose unit is the problem instance."),
            table(headers, rows, numeric=set(range(1, len(headers)))),
        ],
    )


def code_vs_nl(ctx: Context) -> Section | None:
    result, skipped = ctx.analysis.accuracy, ctx.analysis.skipped.get("code_vs_nl")
    if result is None:
        return None
    blocks = [
        p(
            "The primary effect: a binomial GLMM with crossed random intercepts for model and problem instance "
            "(log-odds and odds ratio of Code against NL, as glmer fits it), every kind pooled and per kind. "
            "Beside it, accuracy per model and arm with instance-bootstrap intervals; per model, the paired "
            "Code − NL difference on per-instance accuracy (Wilcoxon signed-rank and paired t, McNemar exact or "
            "cluster-adjusted), Bonferroni and Holm adjusted, repeated-measures ANOVAs with the instance as "
            "the subject, and the plan's criteria."
        )
    ]
    if skipped:
        blocks.append(note(f"Code vs NL not tested: {skipped}; accuracy alone is shown."))
    glmm = getattr(result, "glmm", None)
    if glmm is not None and not glmm.empty:
        blocks.append(table(GLMM_HEADERS, [_glmm_row(r) for r in glmm.itertuples()], numeric=set(range(1, 7))))
    blocks.append(Block("pre", result.summary()))
    return Section("Code versus NL", blocks)


GLMM_HEADERS = ["kind", "models", "instances", "log-odds [95% CI]", "odds ratio [95% CI]", "z", "p"]


def _glmm_row(r) -> list[Any]:
    if not math.isfinite(r.log_odds):
        return [r.kind, r.n_models, r.n_instances, "—", r.note or "not fitted", "—", "—"]
    return [
        r.kind,
        r.n_models,
        r.n_instances,
        (f"{r.log_odds:+.3f}", f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]"),
        (f"{r.odds_ratio:.2f}", f"[{r.or_ci_low:.2f}, {r.or_ci_high:.2f}]" + (f" {r.note}" if r.note else "")),
        f"{r.z:.2f}",
        p_value(r.p),
    ]


def lab_effects(ctx: Context) -> Section | None:
    effects = ctx.analysis.lab_effects
    skipped = {k.split(":", 1)[1]: v for k, v in ctx.analysis.skipped.items() if k.startswith("lab_effects:")}
    if not effects and not skipped:
        return None
    blocks = [
        p(
            "Per metric loaded with `evalhouse ingest metrics`: a naive comparison, then "
            "value ~ is_flagship + (1 | lab) fitted as lme4 fits it, with sensitivity subsets."
        )
    ]
    shown = []
    for metric, result in sorted(effects.items()):
        blocks += [Block("h3", metric), Block("pre", result.summary())]
        forest = ctx.figure(f"forest_{slug(metric)}")
        if forest is not None:
            shown.append(
                Figure(
                    f"Lab effects on {metric}",
                    forest.read_bytes(),
                    f"{metric}: mixed-model estimate of is_flagship, all models and each sensitivity subset",
                )
            )
    for metric, why in sorted(skipped.items()):
        blocks += [Block("h3", metric), note(f"not analysed: {why}")]
    return Section("Lab effects on model metrics", blocks, figures=shown)


def run_health(ctx: Context) -> Section | None:
    if not ctx.has("marts.run_health"):
        return None
    d = ctx.df("select * from marts.run_health order by all")
    if d.empty:
        return None
    return Section("Run health", [p("How collection went, per model and arm (marts.run_health)."), _frame_table(d)])


def validation(ctx: Context) -> Section | None:
    from .checks import validate

    try:
        result = validate(ctx.paths, ctx.experiments)
    except (SpecError, SourceError) as exc:
        return Section("Validation", [note(f"not run: {exc}")])
    rows = [[("PASS" if c.passed else "FAIL"), c.name, c.title, c.summary] for c in result.checks]
    blocks = [p(f"Expected: {result.expectation}."), *(note(n) for n in result.notes)]
    blocks.append(table(["", "check", "what", "result"], rows, numeric=set(), status_col=0))
    for c in result.checks:
        if c.details:
            blocks += [Block("h3", c.name), Block("list", items=list(c.details))]
    return Section("Validation", blocks, results={"validation": result})


SECTIONS: list[Callable[[Context], Section | None]] = [
    overview,
    headline_accuracy,
    accuracy_by_kind,
    figures,
    code_vs_nl,
    lab_effects,
    run_health,
    validation,
]
FIGURES = {  # the analyses' figures, by file stem, in the order the report shows them
    "accuracy_by_arm": "Accuracy by arm: a line per model, coloured by lab; the black line pools every model",
    "accuracy_by_arm_kind": "Accuracy by arm, per problem kind",
    "accuracy_by_digit": "Accuracy by difficulty (digit), per arm",
    "code_nl_heatmap": "Code − NL accuracy per model and kind, on paired instances",
}


# -- helpers ---------------------------------------------------------------------------------------


def _arms(cells: pd.DataFrame) -> list[str]:
    return arm_order(cells["arm"])


def _acc_cell(by_arm: pd.DataFrame, arm: str) -> str | tuple[str, str]:
    """A mart's accuracy with its interval and n, or a dash when the arm has no answered response."""
    if arm not in by_arm.index or not by_arm.loc[arm, "n"]:
        return "—"
    row = by_arm.loc[arm]
    return f"{100 * row['accuracy']:.1f}%", f"[{100 * row['ci_low']:.1f}, {100 * row['ci_high']:.1f}] n={int(row['n'])}"


def _frame_table(d: pd.DataFrame) -> Block:
    numeric = {i for i, t in enumerate(d.dtypes) if pd.api.types.is_numeric_dtype(t)}
    rows = [[_fmt(v) for v in row] for row in d.itertuples(index=False)]
    return table(list(d.columns), rows, numeric)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
