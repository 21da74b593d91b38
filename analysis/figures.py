"""Figures in one style: colour by provider (lab), a line per model, PNG and PDF."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

ARM_ORDER = ["nl", "sim", "controlsim", "code"]
ARM_LABELS = {"nl": "NL", "sim": "Sim", "controlsim": "ControlSim", "code": "Code"}
STYLE = {"figure.dpi": 120, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
         "grid.alpha": 0.3, "font.size": 10}


def lab_colours(labs: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    return {lab: cmap(i % 10) for i, lab in enumerate(sorted(set(labs)))}


def accuracy_by_arm(cells: pd.DataFrame, out: Path, title: str = "Accuracy by arm") -> list[Path]:
    """Line per model over the arms, coloured by lab, plus the all-models line.

    `cells` has columns model, lab, arm, n, n_correct (any finer grain; it is pooled here).
    """
    per_model = cells.groupby(["model", "lab", "arm"], as_index=False)[["n", "n_correct"]].sum()
    per_model["accuracy"] = per_model["n_correct"] / per_model["n"]
    pooled = cells.groupby("arm", as_index=False)[["n", "n_correct"]].sum()
    pooled["accuracy"] = pooled["n_correct"] / pooled["n"]
    arms = [a for a in ARM_ORDER if a in set(per_model["arm"])]
    colours = lab_colours(per_model["lab"].tolist())
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        markers = "osD^vP*X"
        for i, ((model, lab), group) in enumerate(per_model.groupby(["model", "lab"])):
            g = group.set_index("arm").reindex(arms)
            ax.plot(range(len(arms)), g["accuracy"], marker=markers[i % len(markers)], color=colours[lab],
                    label=f"{model} ({lab})", linewidth=1.5, alpha=0.85)
        p = pooled.set_index("arm").reindex(arms)
        ax.plot(range(len(arms)), p["accuracy"], color="black", linewidth=3, marker="o", label="All models")
        ax.set_xticks(range(len(arms)), [ARM_LABELS[a] for a in arms])
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("Accuracy")
        ax.set_xlabel("Arm")
        ax.set_title(title)
        ax.legend(fontsize=7, loc="lower right", frameon=False)
        fig.tight_layout()
        return _save(fig, out)


def _save(fig, out: Path) -> list[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".pdf"):
        target = out.with_suffix(suffix)
        fig.savefig(target, bbox_inches="tight")
        written.append(target)
    plt.close(fig)
    return written
