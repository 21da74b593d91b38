"""Every analysis the warehouse supports, written to one folder: what `evalhouse rerun` and
`evalhouse report` call. Each result is kept as JSON (`to_dict`), text (`summary`) and LaTeX (`latex`)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .format import jsonable, slug
from .sources import SourceError


@dataclass
class Refresh:
    """What a refresh wrote, the results themselves, and what it could not analyse (name → reason)."""

    written: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    code_vs_nl: object | None = None
    lab_effects: dict[str, object] = field(default_factory=dict)


def write_result(result, stem: Path) -> list[Path]:
    """`stem`.json, .txt and .tex for one results object."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    targets = {".json": json.dumps(jsonable(result.to_dict()), indent=2, allow_nan=False),
               ".txt": result.summary(), ".tex": result.latex()}
    written = []
    for suffix, text in targets.items():
        path = stem.with_suffix(suffix)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written


def code_vs_nl_from_warehouse(warehouse_path: Path | None = None, n_boot: int = 1000, **options):
    """The Code-vs-NL result on the warehouse's graded responses, or None when there are none."""
    from .code_vs_nl import code_vs_nl, load_responses

    responses = load_responses(warehouse_path)
    return None if responses.empty else code_vs_nl(responses, n_boot=n_boot, **options)


def figures_from_warehouse(out_dir: Path, metric: str | None = None, exclude_models=(), exclude_categories=(),
                           warehouse_path: Path | None = None, n_boot: int = 1000) -> list[Path]:
    from .figures import draw_all
    from .lab_effects import exclude_category, exclude_model, lab_effects, load_metrics

    result = code_vs_nl_from_warehouse(warehouse_path, n_boot=n_boot)
    effects = None
    if metric:
        subsets = [exclude_model(m) for m in exclude_models] + [exclude_category(c) for c in exclude_categories]
        effects = lab_effects(load_metrics(warehouse_path=warehouse_path), metric, subsets)
    return draw_all(out_dir, code_vs_nl=result, lab_effects=effects)


def refresh(out_dir: Path, warehouse_path: Path | None = None, n_boot: int = 1000) -> Refresh:
    """Run Code vs NL and lab effects (every metric) on the warehouse; write results and figures."""
    from .figures import draw_all, mixed_effect_forest
    from .lab_effects import lab_effects, load_metrics

    out_dir = Path(out_dir)
    report = Refresh()
    try:
        report.code_vs_nl = code_vs_nl_from_warehouse(warehouse_path, n_boot=n_boot)
    except (SourceError, ValueError) as exc:
        report.skipped["code_vs_nl"] = str(exc)
    if report.code_vs_nl is not None:
        report.written += write_result(report.code_vs_nl, out_dir / "code_vs_nl")
        report.written += draw_all(out_dir / "figures", code_vs_nl=report.code_vs_nl)
    elif "code_vs_nl" not in report.skipped:
        report.skipped["code_vs_nl"] = "no graded responses"
    try:
        metrics = load_metrics(warehouse_path=warehouse_path)
    except SourceError as exc:
        report.skipped["lab_effects"] = str(exc)
        return report
    if metrics.empty:
        report.skipped["lab_effects"] = "marts.model_metrics is empty"
    for metric in sorted(metrics["metric"].dropna().unique()):
        try:
            result = lab_effects(metrics, metric)
        except ValueError as exc:
            report.skipped[f"lab_effects:{metric}"] = str(exc)
            continue
        report.lab_effects[metric] = result
        stem = out_dir / f"lab_effects_{slug(metric)}"
        report.written += write_result(result, stem)
        report.written += mixed_effect_forest(result, out_dir / "figures" / f"forest_{slug(metric)}")
    return report
