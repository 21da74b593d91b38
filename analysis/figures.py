"""Figures in one style (PNG and PDF): colour by lab, a marker per model, the all-models line in black.

Every figure takes a results object (or one of its tables) and a path without suffix, and returns the
files it wrote. `draw_all` draws every figure a result supports.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.lines import Line2D

from evalhouse.files import write_atomic
from evalhouse.vocabulary import arm_order

from .format import slug
from .instances import ALL_MODELS

ARM_LABELS = {"nl": "NL", "sim": "Sim", "controlsim": "ControlSim", "code": "Code"}
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "pdf.fonttype": 42,
}
LAB_PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", "-.", ":"]


class Styles:
    """Colour per lab, marker and dash per model within its lab: the same in every figure of a result."""

    def __init__(self, labs: dict[str, str]):
        self.labs = dict(sorted(labs.items(), key=lambda kv: (kv[1], kv[0])))
        lab_names = sorted(set(self.labs.values()))
        self.lab_colour = {lab: LAB_PALETTE[i % len(LAB_PALETTE)] for i, lab in enumerate(lab_names)}
        self.model = {}
        seen: dict[str, int] = {}
        for model, lab in self.labs.items():
            j = seen.get(lab, 0)
            seen[lab] = j + 1
            self.model[model] = {
                "color": self.lab_colour[lab],
                "marker": MARKERS[j % len(MARKERS)],
                "linestyle": LINESTYLES[j % len(LINESTYLES)],
            }

    @property
    def models(self) -> list[str]:
        return list(self.labs)

    def kwargs(self, model: str) -> dict:
        if model == ALL_MODELS:
            return {"color": "black", "marker": "o", "linestyle": "-", "linewidth": 2.6, "markersize": 6, "zorder": 5}
        return {**self.model[model], "linewidth": 1.4, "markersize": 5, "alpha": 0.9}

    def label(self, model: str) -> str:
        return "All models (pooled)" if model == ALL_MODELS else f"{short(model)} · {self.labs[model]}"

    def legend_handles(self) -> list[Line2D]:
        handles = [
            Line2D(
                [], [], **{k: v for k, v in self.kwargs(m).items() if k not in ("zorder", "alpha")}, label=self.label(m)
            )
            for m in self.models
        ]
        return handles + [
            Line2D(
                [],
                [],
                **{k: v for k, v in self.kwargs(ALL_MODELS).items() if k != "zorder"},
                label=self.label(ALL_MODELS),
            )
        ]


def short(model: str) -> str:
    return model.split("/", 1)[-1]


def _arms(frame: pd.DataFrame) -> list[str]:
    return arm_order(frame["arm"])


def _lines_over(
    ax, frame: pd.DataFrame, x: str, xs: list, styles: Styles, jitter: float = 0.0, model_ci: bool = True
) -> None:
    """A line per model (and the all-models line) of accuracy over `x`, with 95% CI error bars (for the
    all-models line only when `model_ci` is off, as in small multiples)."""
    models = [m for m in styles.models if m in set(frame["model"])] + [ALL_MODELS]
    for j, model in enumerate(models):
        g = frame[frame["model"] == model].set_index(x).reindex(xs)
        if g["accuracy"].isna().all():
            continue
        pos = np.arange(len(xs)) + (0 if model == ALL_MODELS else jitter * (j - (len(models) - 2) / 2))
        err = np.vstack([g["accuracy"] - g["ci_low"], g["ci_high"] - g["accuracy"]]).clip(min=0)
        if model_ci or model == ALL_MODELS:
            ax.errorbar(
                pos,
                g["accuracy"],
                yerr=err,
                capsize=2,
                elinewidth=0.8,
                label=styles.label(model),
                **styles.kwargs(model),
            )
        else:
            ax.plot(pos, g["accuracy"], label=styles.label(model), **styles.kwargs(model))
    ax.set_ylim(-0.02, 1.02)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xticks(np.arange(len(xs)))


def _figure_legend(fig, styles: Styles) -> None:
    handles = styles.legend_handles()
    fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)))


def accuracy_by_arm(result, out: Path, title: str | None = None) -> list[Path]:
    """Accuracy over the arms: a line per model coloured by lab, and the pooled all-models line."""
    return _save(accuracy_by_arm_figure(result, title), out)


def accuracy_by_arm_figure(result, title: str | None = None):
    frame = result.accuracy_by_arm
    styles = Styles(result.labs)
    arms = _arms(frame)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.6, 4.2), layout="constrained")
        _lines_over(ax, frame, "arm", arms, styles, jitter=0.03)
        ax.set_xticklabels([ARM_LABELS.get(a, a) for a in arms])
        ax.set_xlabel("Arm")
        ax.set_ylabel("Accuracy (95% instance-bootstrap CI)")
        ax.set_title(title or "Accuracy by arm")
        fig.legend(handles=styles.legend_handles(), loc="outside right upper")
        return fig


def accuracy_by_arm_and_kind(result, out: Path, title: str | None = None) -> list[Path]:
    """The accuracy-by-arm figure as small multiples, one panel per kind."""
    frame = result.accuracy
    styles = Styles(result.labs)
    arms = _arms(frame)
    kinds = sorted(set(frame["kind"]))
    cols = min(4, len(kinds))
    rows = math.ceil(len(kinds) / cols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            rows,
            cols,
            figsize=(2.7 * cols + 0.4, 2.3 * rows + 1.3),
            sharex=True,
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        for ax, kind in zip(axes.flat, kinds):
            _lines_over(ax, frame[frame["kind"] == kind], "arm", arms, styles, model_ci=False)
            ax.set_xticklabels([ARM_LABELS.get(a, a) for a in arms], fontsize=7)
            ax.set_title(kind)
        for i, ax in enumerate(axes.flat[len(kinds) :], start=len(kinds)):
            ax.set_visible(False)
            axes.flat[i - cols].tick_params(labelbottom=True)
        for ax in axes[:, 0]:
            ax.set_ylabel("Accuracy")
        fig.suptitle((title or "Accuracy by arm, per problem kind") + "\n(bars: 95% CI of the all-models line)")
        _figure_legend(fig, styles)
        return _save(fig, out)


def accuracy_by_digit(result, out: Path, title: str | None = None) -> list[Path]:
    """Accuracy against difficulty (digit), one panel per arm; nothing when no kind has digits."""
    frame = result.accuracy_by_digit
    frame = frame[frame["digit"] > 0]
    if frame.empty:
        return []
    styles = Styles(result.labs)
    arms = _arms(frame)
    digits = sorted(set(frame["digit"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(arms), figsize=(3.0 * len(arms) + 0.4, 3.9), sharey=True, squeeze=False, layout="constrained"
        )
        for ax, arm in zip(axes.flat, arms):
            _lines_over(ax, frame[frame["arm"] == arm], "digit", digits, styles, model_ci=False)
            ax.set_xticklabels([str(d) for d in digits])
            ax.set_xlabel("Digits")
            ax.set_title(ARM_LABELS.get(arm, arm))
        axes[0, 0].set_ylabel("Accuracy")
        fig.suptitle(
            (title or "Accuracy by difficulty (kinds with digits)") + "\n(bars: 95% CI of the all-models line)"
        )
        _figure_legend(fig, styles)
        return _save(fig, out)


def code_nl_heatmap(result, out: Path, title: str | None = None) -> list[Path]:
    """Treatment − control accuracy on paired instances, model × kind, with the value in every cell.

    The last row pools all models and the last column all kinds; a bold value's 95% CI excludes 0.
    """
    return _save(code_nl_heatmap_figure(result, title), out)


def code_nl_heatmap_figure(result, title: str | None = None):
    delta = result.delta
    styles = Styles(result.labs)
    kinds = sorted(set(delta["kind"]) - {"all"}) + ["all"]
    models = [m for m in styles.models if m in set(delta["model"])] + [ALL_MODELS]
    grid = delta.pivot(index="model", columns="kind", values="delta").reindex(index=models, columns=kinds)
    lo = delta.pivot(index="model", columns="kind", values="ci_low").reindex(index=models, columns=kinds)
    hi = delta.pivot(index="model", columns="kind", values="ci_high").reindex(index=models, columns=kinds)
    limit = max(0.05, float(np.nanmax(np.abs(grid.to_numpy()))))
    t, c = ARM_LABELS.get(result.treatment, result.treatment), ARM_LABELS.get(result.control, result.control)
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(0.62 * len(kinds) + 3.2, 0.42 * len(models) + 1.6), layout="constrained")
        image = ax.imshow(grid.to_numpy(float), cmap="RdBu", norm=TwoSlopeNorm(0.0, -limit, limit), aspect="auto")
        for (r, k), value in np.ndenumerate(grid.to_numpy(float)):
            if np.isnan(value):
                continue
            excludes_zero = lo.iat[r, k] > 0 or hi.iat[r, k] < 0
            ax.text(
                k,
                r,
                f"{value:+.2f}",
                ha="center",
                va="center",
                fontsize=7,
                fontweight="bold" if excludes_zero else "normal",
                color="white" if abs(value) > 0.6 * limit else "black",
            )
        ax.set_xticks(range(len(kinds)), ["all kinds" if k == "all" else k for k in kinds], rotation=45, ha="right")
        ax.set_yticks(range(len(models)), ["All models" if m == ALL_MODELS else short(m) for m in models])
        for tick, model in zip(ax.get_yticklabels(), models):
            if model != ALL_MODELS:
                tick.set_color(styles.lab_colour[styles.labs[model]])
        ax.axhline(len(models) - 1.5, color="black", linewidth=1)
        ax.axvline(len(kinds) - 1.5, color="black", linewidth=1)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label(f"{t} − {c} accuracy")
        ax.set_title(title or f"{t} − {c} on paired instances (bold: 95% CI excludes 0; labels coloured by lab)")
        return fig


def mixed_effect_forest(result, out: Path, title: str | None = None) -> list[Path]:
    """The mixed-model effect with its Wald 95% CI on all models and on each sensitivity subset."""
    fits = result.fits
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9.5, 0.55 * len(fits) + 1.5), layout="constrained")
        for y, f in enumerate(reversed(fits)):
            lo, hi = f.ci
            colour = "black" if f.subset.name == "all" else LAB_PALETTE[0]
            ax.plot([lo, hi], [y, y], color=colour, linewidth=1.6)
            ax.plot(
                f.effect,
                y,
                marker="D" if f.subset.name == "all" else "o",
                markersize=7,
                color=colour,
                markerfacecolor="white" if f.fit.singular else colour,
                linestyle="none",
            )
            ax.annotate(
                f"{f.effect:.3f} [{lo:.3f}, {hi:.3f}]" + ("  singular" if f.fit.singular else ""),
                (1.02, y),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize=8,
            )
        ax.axvline(0, color="grey", linewidth=0.8, linestyle="--")
        ends = [x for f in fits for x in f.ci] + [0.0]
        pad = 0.08 * (max(ends) - min(ends))
        ax.set_xlim(min(ends) - pad, max(ends) + pad)
        if any(f.fit.singular for f in fits):
            ax.plot(
                [],
                [],
                marker="o",
                color=LAB_PALETTE[0],
                markerfacecolor="white",
                linestyle="none",
                label="singular fit (group variance 0)",
            )
            ax.legend(loc="lower left")
        ax.set_yticks(
            range(len(fits)),
            [f"{f.subset.description} (n={f.fit.n}, {f.fit.n_groups} {result.group}s)" for f in reversed(fits)],
        )
        ax.set_ylim(-0.6, len(fits) - 0.4)
        ax.set_xlabel(f"Effect of {result.predictor} on {result.metric} (mixed model, {result.method}; Wald 95% CI)")
        ax.set_title(title or f"{result.metric} ~ {result.predictor} + (1|{result.group}) across sensitivity subsets")
        ax.grid(axis="y", visible=False)
        return _save(fig, out)


def draw_all(out_dir: Path, accuracy=None, lab_effects=None) -> list[Path]:
    """Every figure the given results support, into `out_dir`; returns the files written.

    `accuracy` is a Code-vs-NL result (all four response figures) or an accuracy-only result (no heatmap).
    """
    out_dir = Path(out_dir)
    written: list[Path] = []
    if accuracy is not None:
        synthetic = all(m.startswith("synthetic/") for m in accuracy.models)
        note = " (synthetic models)" if synthetic else ""
        written += accuracy_by_arm(accuracy, out_dir / "accuracy_by_arm", f"Accuracy by arm{note}")
        written += accuracy_by_arm_and_kind(
            accuracy, out_dir / "accuracy_by_arm_kind", f"Accuracy by arm, per problem kind{note}"
        )
        written += accuracy_by_digit(accuracy, out_dir / "accuracy_by_digit", f"Accuracy by difficulty{note}")
        if hasattr(accuracy, "delta"):
            written += code_nl_heatmap(accuracy, out_dir / "code_nl_heatmap")
    if lab_effects is not None:
        written += mixed_effect_forest(lab_effects, out_dir / f"forest_{slug(lab_effects.metric)}")
    return written


def _save(fig, out: Path) -> list[Path]:
    out = Path(out)
    written = []
    for suffix in (".png", ".pdf"):
        # written under a temporary name, so the format is named rather than taken from the suffix
        written.append(write_atomic(out.with_suffix(suffix), functools.partial(fig.savefig, format=suffix[1:])))
        fig.set_layout_engine("none")  # the layout is solved; the second format reuses it
    plt.close(fig)
    return written
