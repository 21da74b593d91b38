"""`evalhouse report`: one self-contained HTML file with the headline tables, figures and statistics.

Figures are embedded as base64 PNG and the style is inline, so the file opens anywhere, offline, and can
be mailed as it is. The statistics and figures are the analysis package's (`analysis.outputs.refresh`:
Code vs NL with instance-bootstrap intervals and paired tests, lab effects per metric), computed once
per report into `analysis_dir`; the headline tables read the marts. The report is a list of sections;
each is one small function that returns a Section (or None when its data is absent), so a new analysis
becomes a new function in SECTIONS. A section may carry results objects (anything with `to_dict()`,
optionally `latex()`); `evalhouse rerun` saves those beside the report.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from evalhouse import __version__
from evalhouse.analysis.format import slug
from evalhouse.analysis.outputs import Refresh, refresh
from evalhouse.analysis.sources import SourceError, warehouse
from evalhouse.config import Paths
from evalhouse.ingest.spec import SpecError
from evalhouse.vocabulary import ARM_LABELS, arm_order


@dataclass
class Figure:
    title: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    title: str
    html: str
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
        toc = "".join(f'<li><a href="#{s.anchor}">{_e(s.title)}</a></li>' for s in self.sections)
        body = "".join(_section_html(s) for s in self.sections)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(self.title)}</title><style>{CSS}</style></head><body>"
            f'<header><h1>{_e(self.title)}</h1><p class="meta">Generated {_e(self.generated_at)} by evalhouse '
            f"{__version__}</p><nav><ol>{toc}</ol></nav></header><main>{body}</main></body></html>\n"
        )


def build_report(paths: Paths, experiments: Path, analysis_dir: Path, n_boot: int = 1000) -> Report:
    """Every section that has data, from the warehouse at `paths` (SourceError when there is none).

    The analyses write their JSON, text, LaTeX and figures into `analysis_dir` on the way.
    """
    if not paths.warehouse.exists():
        raise SourceError(f"no warehouse at {paths.warehouse}; run `evalhouse build` first")
    analysis = refresh(analysis_dir, paths.warehouse, n_boot=n_boot)
    with warehouse(paths.warehouse) as con:
        ctx = Context(con, paths, experiments, analysis)
        sections = [s for s in (_guarded(make, ctx) for make in SECTIONS) if s is not None]
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Report("evalhouse report", now, sections, analysis)


def _guarded(make: Callable[[Context], Section | None], ctx: Context) -> Section | None:
    """A section whose tables changed shape says so in the report instead of sinking the whole report."""
    try:
        return make(ctx)
    except duckdb.Error as exc:
        title = make.__name__.replace("_", " ").capitalize()
        return Section(title, f'<p class="note">not available: {_e(str(exc).splitlines()[0])}</p>')


def write_report(report: Report, out: Path) -> Path:
    """Write atomically: a reader (or a mail job) never picks up half a report."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(report.html(), encoding="utf-8")
    tmp.replace(out)
    return out


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
    note = (
        (
            '<p class="note">These models are <strong>simulated (synthetic)</strong>: the figures show the '
            "pipeline at work, not the behaviour of any real model.</p>"
        )
        if synthetic
        else ""
    )
    return Section("Overview", note + _table(None, rows, numeric=set()))


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
        "<p>Accuracy per model and arm over every kind (marts.acc_model_arm), with Wilson 95% intervals whose "
        "unit is the problem instance, and the number of answered responses (API errors are not counted; an "
        "unparseable answer counts as wrong).</p>"
    )
    return Section("Accuracy by model and arm", text + _table(headers, rows, numeric=set(range(2, len(headers)))))


def figures(ctx: Context) -> Section | None:
    drawn = [(ctx.figure(stem), caption) for stem, caption in FIGURES.items()]
    drawn = [Figure(caption, png.read_bytes(), caption) for png, caption in drawn if png is not None]
    if not drawn:
        return None
    return Section(
        "Figures",
        "<p>Intervals are 95% instance-bootstrap intervals (resampling problem instances within kind × digit).</p>",
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
        "<p>Every model pooled (marts.acc_arm_kind), Wilson 95% intervals whose unit is the problem instance.</p>"
        + _table(headers, rows, numeric=set(range(1, len(headers)))),
    )


def code_vs_nl(ctx: Context) -> Section | None:
    result, skipped = ctx.analysis.accuracy, ctx.analysis.skipped.get("code_vs_nl")
    if result is None:
        return None
    note = f'<p class="note">Code vs NL not tested: {_e(skipped)}; accuracy alone is shown.</p>' if skipped else ""
    text = (
        "<p>Accuracy per model and arm with instance-bootstrap intervals; per model, the paired Code − NL "
        "difference with Wilcoxon and exact McNemar tests (Bonferroni and Holm adjusted), ANOVAs and the "
        "plan's criteria.</p>"
    )
    return Section("Code versus NL", text + note + f"<pre>{_e(result.summary())}</pre>")


def lab_effects(ctx: Context) -> Section | None:
    effects = ctx.analysis.lab_effects
    skipped = {k.split(":", 1)[1]: v for k, v in ctx.analysis.skipped.items() if k.startswith("lab_effects:")}
    if not effects and not skipped:
        return None
    parts, shown = [], []
    for metric, result in sorted(effects.items()):
        parts.append(f"<h3>{_e(metric)}</h3><pre>{_e(result.summary())}</pre>")
        forest = ctx.figure(f"forest_{slug(metric)}")
        if forest is not None:
            shown.append(
                Figure(
                    f"Lab effects on {metric}",
                    forest.read_bytes(),
                    f"{metric}: mixed-model estimate of is_flagship, all models and each sensitivity subset",
                )
            )
    parts += [
        f'<h3>{_e(metric)}</h3><p class="note">not analysed: {_e(why)}</p>' for metric, why in sorted(skipped.items())
    ]
    text = (
        "<p>Per metric loaded with <code>evalhouse ingest metrics</code>: a naive comparison, then "
        "<code>value ~ is_flagship + (1 | lab)</code> fitted as lme4 fits it, with sensitivity subsets.</p>"
    )
    return Section("Lab effects on model metrics", text + "".join(parts), figures=shown)


def run_health(ctx: Context) -> Section | None:
    if not ctx.has("marts.run_health"):
        return None
    d = ctx.df("select * from marts.run_health order by all")
    if d.empty:
        return None
    return Section("Run health", "<p>How collection went, per model and arm (marts.run_health).</p>" + _frame_table(d))


def validation(ctx: Context) -> Section | None:
    from .checks import validate

    try:
        result = validate(ctx.paths, ctx.experiments)
    except (SpecError, SourceError) as exc:
        return Section("Validation", f'<p class="note">not run: {_e(str(exc))}</p>')
    rows = [[("PASS" if c.passed else "FAIL"), c.name, c.title, c.summary] for c in result.checks]
    details = "".join(
        f"<h3>{_e(c.name)}</h3><ul>{''.join(f'<li>{_e(d)}</li>' for d in c.details)}</ul>"
        for c in result.checks
        if c.details
    )
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in result.notes)
    head = f"<p>Expected: {_e(result.expectation)}.</p>{notes}"
    return Section(
        "Validation",
        head + _table(["", "check", "what", "result"], rows, numeric=set(), status_col=0) + details,
        results={"validation": result},
    )


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


def _e(text: Any) -> str:
    return html.escape(str(text))


def _table(headers: list[str] | None, rows: list[list[Any]], numeric: set[int], status_col: int | None = None) -> str:
    """An HTML table; a cell given as (text, note) shows the note small, under the text."""
    head = f"<thead><tr>{''.join(f'<th>{_e(h)}</th>' for h in headers)}</tr></thead>" if headers else ""
    body = []
    for row in rows:
        tds = []
        for i, v in enumerate(row):
            cls = ["num"] if i in numeric else []
            if i == status_col:
                cls.append("pass" if v == "PASS" else "fail")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            text = f'{_e(v[0])}<br><span class="sub">{_e(v[1])}</span>' if isinstance(v, tuple) else _e(v)
            tds.append(f"<td{attr}>{text}</td>")
        body.append(f"<tr>{''.join(tds)}</tr>")
    return f'<table class="data">{head}<tbody>{"".join(body)}</tbody></table>'


def _frame_table(d: pd.DataFrame) -> str:
    numeric = {i for i, t in enumerate(d.dtypes) if pd.api.types.is_numeric_dtype(t)}
    rows = [[_fmt(v) for v in row] for row in d.itertuples(index=False)]
    return _table(list(d.columns), rows, numeric)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _section_html(s: Section) -> str:
    figures = "".join(
        f'<figure><img alt="{_e(f.title)}" src="data:image/png;base64,{base64.b64encode(f.png).decode()}">'
        f"<figcaption>{_e(f.caption or f.title)}</figcaption></figure>"
        for f in s.figures
    )
    return f'<section id="{s.anchor}"><h2>{_e(s.title)}</h2>{s.html}{figures}</section>'


CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;margin:0;background:#fafafa}
header,main{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:24px}h1{margin:0 0 4px}.meta{color:#666;margin:0 0 12px}
nav ol{columns:2;margin:0 0 8px;padding-left:20px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:8px 20px 16px;margin:16px 0}
h2{border-bottom:1px solid #eee;padding-bottom:4px}h3{margin:16px 0 4px;font-size:1em}
table.data{border-collapse:collapse;font-size:13px;margin:8px 0;display:block;overflow-x:auto}
table.data th,table.data td{padding:4px 10px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
table.data td:last-child{white-space:normal}table.data th{background:#f3f3f3}table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
td.pass{color:#176b2c;font-weight:600}td.fail{color:#b00020;font-weight:600}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px}
.sub{color:#666;font-size:11px}
pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}
figure{margin:8px 0}figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:13px}
"""
