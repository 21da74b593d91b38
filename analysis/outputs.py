"""Every analysis the warehouse supports, written to one folder: what `evalhouse rerun` and
`evalhouse report` call. Each result is kept as JSON (`to_dict`), text (`summary`) and LaTeX (`latex`)."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from evalhouse.files import write_atomic

from .format import jsonable, slug
from .sources import SourceError


@dataclass
class Refresh:
    """What a refresh wrote, the results themselves, and what it could not analyse (name → reason)."""

    written: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    code_vs_nl: object | None = None
    accuracy: object | None = None  # the Code-vs-NL result, or accuracy alone when there is no code/nl pair
    lab_effects: dict[str, object] = field(default_factory=dict)


def write_result(result, stem: Path) -> list[Path]:
    """`stem`.json, .txt and .tex for one results object."""
    targets = {
        ".json": json.dumps(jsonable(result.to_dict()), indent=2, allow_nan=False),
        ".txt": result.summary(),
        ".tex": result.latex(),
    }
    written = []
    for suffix, text in targets.items():
        written.append(write_atomic(stem.with_suffix(suffix), text + "\n"))
    return written


def responses_from_warehouse(warehouse_path: Path | None = None, n_boot: int = 1000, **options):
    """Code vs NL on the warehouse's instances (marts.acc_model_arm_instance); accuracy alone when there is
    no code/nl pair; None when there are no responses. Returns (result, why Code vs NL was not run or None)."""
    from .bootstrap import SmallCellWarning
    from .code_vs_nl import accuracy, code_vs_nl
    from .sources import load_instances

    instances = load_instances(warehouse_path=warehouse_path)
    if instances.empty:
        return None, "no graded responses"
    with warnings.catch_warnings():  # small cells are listed in the result's notes
        warnings.simplefilter("ignore", SmallCellWarning)
        try:
            return code_vs_nl(instances, n_boot=n_boot, **options), None
        except ValueError as exc:  # no code or nl arm, or no pair: the accuracy figures still stand
            return accuracy(instances, n_boot=n_boot), str(exc)


def figures_from_warehouse(
    out_dir: Path,
    metric: str | None = None,
    exclude_models=(),
    exclude_categories=(),
    warehouse_path: Path | None = None,
    n_boot: int = 1000,
) -> list[Path]:
    from .figures import draw_all
    from .lab_effects import exclude_category, exclude_model, lab_effects, load_metrics

    result, _ = responses_from_warehouse(warehouse_path, n_boot=n_boot)
    effects = None
    if metric:
        subsets = [exclude_model(m) for m in exclude_models] + [exclude_category(c) for c in exclude_categories]
        effects = lab_effects(load_metrics(warehouse_path=warehouse_path), metric, subsets)
    return draw_all(out_dir, accuracy=result, lab_effects=effects)


def refresh(out_dir: Path, warehouse_path: Path | None = None, n_boot: int = 1000) -> Refresh:
    """Run Code vs NL (or accuracy alone) and lab effects (every metric); write results and figures."""
    from .figures import draw_all, mixed_effect_forest
    from .lab_effects import lab_effects, load_metrics

    out_dir = Path(out_dir)
    report = Refresh()
    result, why = responses_from_warehouse(warehouse_path, n_boot=n_boot)
    if why:
        report.skipped["code_vs_nl"] = why
    if result is not None:
        if why is None:
            report.code_vs_nl = result
        report.accuracy = result
        report.written += write_result(result, out_dir / ("code_vs_nl" if why is None else "accuracy"))
        report.written += draw_all(out_dir / "figures", accuracy=result)
    try:
        metrics = load_metrics(warehouse_path=warehouse_path)
    except SourceError as exc:
        report.skipped["lab_effects"] = str(exc)
        return report
    if metrics.empty:
        report.skipped["lab_effects"] = "marts.model_metrics is empty"
    for metric in sorted(metrics["metric"].dropna().unique()):
        try:
            effects = lab_effects(metrics, metric)
        except ValueError as exc:
            report.skipped[f"lab_effects:{metric}"] = str(exc)
            continue
        report.lab_effects[metric] = effects
        report.written += write_result(effects, out_dir / f"lab_effects_{slug(metric)}")
        report.written += mixed_effect_forest(effects, out_dir / "figures" / f"forest_{slug(metric)}")
    return report
