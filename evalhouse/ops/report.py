"""`evalhouse report`: one self-contained HTML file with the headline tables, figures and statistics.

Figures are embedded as base64 PNG and the style is inline, so the file opens anywhere, offline, and can
be mailed as it is. The report is a list of sections; each is one small function that reads the
warehouse and returns a Section (or None when its data is absent), so a new analysis becomes a new
function in SECTIONS. A section may carry results objects (anything with `to_dict()`, optionally
`latex()`); `evalhouse rerun` saves those beside the report.
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
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from evalhouse import __version__
from evalhouse.analysis.sources import SourceError, warehouse
from evalhouse.config import Paths
from evalhouse.ingest.prompts import ARMS
from evalhouse.ingest.spec import SpecError

from .checks import GRADED

ARM_LABELS = {"nl": "NL", "sim": "Sim", "controlsim": "ControlSim", "code": "Code"}


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
    """What a section reads: the warehouse (read-only), the working folder's places, where figures go."""

    con: duckdb.DuckDBPyConnection
    paths: Paths
    experiments: Path
    figure_dir: Path

    def has(self, table: str) -> bool:
        schema, name = table.split(".")
        return bool(self.con.execute("select count(*) from information_schema.tables where table_schema = ? "
                                     "and table_name = ?", [schema, name]).fetchone()[0])

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()


@dataclass
class Report:
    title: str
    generated_at: str
    sections: list[Section]

    @property
    def results(self) -> dict[str, Any]:
        return {name: r for s in self.sections for name, r in s.results.items()}

    def html(self) -> str:
        toc = "".join(f'<li><a href="#{s.anchor}">{_e(s.title)}</a></li>' for s in self.sections)
        body = "".join(_section_html(s) for s in self.sections)
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{_e(self.title)}</title><style>{CSS}</style></head><body>"
                f"<header><h1>{_e(self.title)}</h1><p class=\"meta\">Generated {_e(self.generated_at)} by evalhouse "
                f"{__version__}</p><nav><ol>{toc}</ol></nav></header><main>{body}</main></body></html>\n")


def build_report(paths: Paths, experiments: Path, figure_dir: Path) -> Report:
    """Every section that has data, from the warehouse at `paths` (SourceError when there is none)."""
    figure_dir.mkdir(parents=True, exist_ok=True)
    with warehouse(paths.warehouse) as con:
        ctx = Context(con, paths, experiments, figure_dir)
        sections = [s for s in (_guarded(make, ctx) for make in SECTIONS) if s is not None]
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Report("evalhouse report", now, sections)


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
    if not ctx.has(GRADED):
        return None
    total, answered, models, problems, kinds, seeds, synthetic = ctx.con.execute(
        f"select count(*), count_if(is_answered), count(distinct model), count(distinct problem_id), "
        f"count(distinct kind), count(distinct seed), bool_or(model like 'synthetic/%') from {GRADED}"
    ).fetchone()
    built = datetime.fromtimestamp(ctx.paths.warehouse.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
    rows = [["warehouse", str(ctx.paths.warehouse)], ["last built", built], ["models", models],
            ["problem instances", problems], ["kinds", kinds], ["seeds", seeds],
            ["responses stored", total], ["answered (no API error)", answered]]
    note = ('<p class="note">These models are <strong>simulated (synthetic)</strong>: the figures show the '
            "pipeline at work, not the behaviour of any real model.</p>") if synthetic else ""
    return Section("Overview", note + _table(None, rows, numeric=set()))


def headline_accuracy(ctx: Context) -> Section | None:
    cells = _model_arm_cells(ctx)
    if cells is None:
        return None
    arms = _arms(cells)
    rows = []
    for (model, lab), g in cells.groupby(["model", "lab"], sort=True):
        by_arm = g.groupby("arm")[["n", "n_correct"]].sum()
        rows.append([model, lab, *[_acc_cell(by_arm, a) for a in arms]])
    pooled = cells.groupby("arm")[["n", "n_correct"]].sum()
    rows.append(["All models", "", *[_acc_cell(pooled, a) for a in arms]])
    headers = ["model", "lab", *[ARM_LABELS.get(a, a) for a in arms]]
    text = ("<p>Accuracy per model and arm over every kind, with Wilson 95% intervals and the number of answered "
            "responses (API errors are not counted; an unparseable answer counts as wrong).</p>")
    return Section("Accuracy by model and arm", text + _table(headers, rows, numeric=set(range(2, len(headers)))))


def accuracy_figure(ctx: Context) -> Section | None:
    from evalhouse.analysis.figures import accuracy_by_arm

    cells = _model_arm_cells(ctx)
    if cells is None:
        return None
    synthetic = cells["model"].str.startswith("synthetic/").any()
    title = "Accuracy by arm" + (" (synthetic models)" if synthetic else "")
    png = next(p for p in accuracy_by_arm(cells, ctx.figure_dir / "accuracy_by_arm", title) if p.suffix == ".png")
    return Section("Accuracy by arm", "", figures=[Figure(title, png.read_bytes(), "One line per model, coloured by lab; "
                                                          "the thick black line pools every model.")])


def accuracy_by_kind(ctx: Context) -> Section | None:
    if not ctx.has("marts.acc_model_arm_kind"):
        return None
    cells = ctx.df("select kind, arm, sum(n) as n, sum(n_correct) as n_correct from marts.acc_model_arm_kind group by all")
    if cells.empty:
        return None
    arms = _arms(cells)
    rows = []
    for kind, g in cells.groupby("kind", sort=True):
        by_arm = g.set_index("arm")
        rows.append([kind, *[_acc_cell(by_arm, a) for a in arms]])
    headers = ["kind", *[ARM_LABELS.get(a, a) for a in arms]]
    return Section("Accuracy by kind and arm", "<p>Every model pooled, Wilson 95% intervals.</p>"
                   + _table(headers, rows, numeric=set(range(1, len(headers)))))


def code_vs_nl(ctx: Context) -> Section | None:
    if not ctx.has("marts.code_nl_delta"):
        return None
    d = ctx.df("select model, sum(n_pairs) as pairs, sum(accuracy_code * n_pairs) / sum(n_pairs) as code, "
               "sum(accuracy_nl * n_pairs) / sum(n_pairs) as nl, sum(n_code_only) as code_only, "
               "sum(n_nl_only) as nl_only from marts.code_nl_delta group by model order by model")
    if d.empty:
        return None
    rows = []
    for r in d.itertuples():
        discordant = int(r.code_only + r.nl_only)
        p = stats.binomtest(int(r.code_only), discordant, 0.5).pvalue if discordant else float("nan")
        rows.append([r.model, int(r.pairs), _pct(r.code), _pct(r.nl), f"{100 * (r.code - r.nl):+.1f} pp",
                     int(r.code_only), int(r.nl_only), _p(p)])
    text = ("<p>Code-arm accuracy against NL accuracy on the same instances, paired by (problem, seed). "
            "The p-value is McNemar's exact test on the discordant pairs; pairs of one instance under several "
            "seeds are not independent, so read it as a screen, not the final test.</p>")
    headers = ["model", "pairs", "Code", "NL", "Code − NL", "code only", "NL only", "McNemar p"]
    return Section("Code versus NL", text + _table(headers, rows, numeric=set(range(1, len(headers)))))


def mixed_models(ctx: Context) -> Section | None:
    from evalhouse.analysis.mixedlm import fit_mixedlm

    if not ctx.has("marts.model_metrics"):
        return None
    frame = ctx.df("select model, lab, is_flagship, metric, value from marts.model_metrics where value is not null")
    if frame.empty:
        return None
    parts, results = [], {}
    for metric, data in frame.groupby("metric", sort=True):
        try:
            result = fit_mixedlm(data, "value ~ is_flagship", "lab")
        except ValueError as exc:
            parts.append(f"<h3>{_e(metric)}</h3><p class=\"note\">not fitted: {_e(str(exc))}</p>")
            continue
        results[f"mixedlm_{_slug(metric)}"] = result
        parts.append(f"<h3>{_e(metric)}</h3><pre>{_e(result.summary())}</pre>")
    text = ("<p>Per metric loaded with <code>evalhouse ingest metrics</code>: <code>value ~ is_flagship + (1 | lab)</code>, "
            "REML, fitted as lme4 fits it.</p>")
    return Section("Mixed models on model metrics", text + "".join(parts), results=results)


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
        return Section("Validation", f"<p class=\"note\">not run: {_e(str(exc))}</p>")
    rows = [[("PASS" if c.passed else "FAIL"), c.name, c.title, c.summary] for c in result.checks]
    details = "".join(f"<h3>{_e(c.name)}</h3><ul>{''.join(f'<li>{_e(d)}</li>' for d in c.details)}</ul>"
                      for c in result.checks if c.details)
    notes = "".join(f"<p class=\"note\">{_e(n)}</p>" for n in result.notes)
    head = f"<p>Expected: {_e(result.expectation)}.</p>{notes}"
    return Section("Validation", head + _table(["", "check", "what", "result"], rows, numeric=set(), status_col=0) + details,
                   results={"validation": result})


SECTIONS: list[Callable[[Context], Section | None]] = [
    overview, headline_accuracy, accuracy_figure, accuracy_by_kind, code_vs_nl, mixed_models, run_health, validation,
]


# -- helpers ---------------------------------------------------------------------------------------

def _model_arm_cells(ctx: Context) -> pd.DataFrame | None:
    if not ctx.has("marts.acc_model_arm_kind"):
        return None
    registry = ("left join seeds.model_registry as r using (model)" if ctx.has("seeds.model_registry")
                else "left join (select null::varchar as model, null::varchar as lab) as r using (model)")
    cells = ctx.df(f"select a.model, coalesce(r.lab, 'unregistered') as lab, a.arm, a.kind, a.n, a.n_correct "
                   f"from marts.acc_model_arm_kind as a {registry}")
    return None if cells.empty else cells


def _arms(cells: pd.DataFrame) -> list[str]:
    present = set(cells["arm"])
    return [a for a in ARMS if a in present] + sorted(present - set(ARMS))


def _acc_cell(by_arm: pd.DataFrame, arm: str) -> str | tuple[str, str]:
    """Accuracy with its Wilson 95% interval and n, or a dash when the arm has no answered response."""
    if arm not in by_arm.index or not by_arm.loc[arm, "n"]:
        return "—"
    n, k = int(by_arm.loc[arm, "n"]), int(by_arm.loc[arm, "n_correct"])
    lo, hi = proportion_confint(k, n, method="wilson")
    return f"{100 * k / n:.1f}%", f"[{100 * lo:.1f}, {100 * hi:.1f}] n={n}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _p(p: float) -> str:
    if p != p:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "metric"


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
table.data th{background:#f3f3f3}table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
td.pass{color:#176b2c;font-weight:600}td.fail{color:#b00020;font-weight:600}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px}
.sub{color:#666;font-size:11px}
pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}
figure{margin:8px 0}figure img{max-width:100%;height:auto}figcaption{color:#555;font-size:13px}
"""
