"""Figures: every one written as PNG and PDF, one style, colour by lab, values in the heatmap cells."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from evalhouse.analysis.code_vs_nl import ALL_MODELS, code_vs_nl, instances_from_responses
from evalhouse.analysis.figures import (
    Styles,
    accuracy_by_arm_figure,
    accuracy_by_digit,
    code_nl_heatmap_figure,
    draw_all,
)
from evalhouse.analysis.lab_effects import exclude_category, lab_effects, load_metrics
from evalhouse.analysis.simulate import simulate_responses

from .conftest import REPO


@pytest.fixture(scope="module")
def result():
    return code_vs_nl(
        instances_from_responses(simulate_responses(n_models=4, kinds=3, digits=2, instances=8, seeds=2)), n_boot=100
    )


def test_draw_all_writes_png_and_pdf(result, tmp_path):
    """Five figures, each as a non-trivial PNG and a PDF."""
    effects = lab_effects(
        load_metrics(str(REPO / "examples" / "hubris_models.csv")), "hubris", [exclude_category("reasoning")]
    )
    written = draw_all(tmp_path, accuracy=result, lab_effects=effects)
    stems = {p.stem for p in written}
    assert stems == {"accuracy_by_arm", "accuracy_by_arm_kind", "accuracy_by_digit", "code_nl_heatmap", "forest_hubris"}
    for path in written:
        head = path.read_bytes()[:8]
        assert head.startswith(b"\x89PNG" if path.suffix == ".png" else b"%PDF")
        assert path.stat().st_size > 5_000


def test_lines_coloured_by_lab_with_black_all_models_line(result):
    """Models of one lab share a colour (and differ in marker); the pooled line is black."""
    fig = accuracy_by_arm_figure(result)
    lines = {bars.get_label(): bars.lines[0] for bars in fig.axes[0].containers}
    styles = Styles(result.labs)
    by_lab: dict[str, set] = {}
    for model, lab in result.labs.items():
        line = lines[styles.label(model)]
        by_lab.setdefault(lab, set()).add(to_hex(line.get_color()))
    assert all(len(colours) == 1 for colours in by_lab.values())
    assert len({c for colours in by_lab.values() for c in colours}) == len(by_lab)
    assert to_hex(lines[styles.label(ALL_MODELS)].get_color()) == "#000000"
    plt.close(fig)


def test_heatmap_cells_carry_the_deltas(result):
    """Every model × kind cell (and the pooled row and column) shows its Code − NL value."""
    fig = code_nl_heatmap_figure(result)
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    expected = sorted(f"{v:+.2f}" for v in result.delta["delta"])
    assert texts == expected
    plt.close(fig)


def test_no_digit_figure_without_digits(result, tmp_path):
    """Kinds without difficulty levels (digit 0) give no digit figure rather than an empty one."""
    flat = code_vs_nl(
        instances_from_responses(simulate_responses(n_models=2, kinds=2, digits=1, instances=10).assign(digit=0)),
        n_boot=100,
    )
    assert accuracy_by_digit(flat, tmp_path / "d") == []
    assert not list(tmp_path.iterdir())
    assert isinstance(result.accuracy_by_digit, pd.DataFrame)


def test_accuracy_only_result_draws_without_heatmap(result, tmp_path):
    """Responses without a code/nl pair still get the accuracy figures (same accuracies), no heatmap."""
    from evalhouse.analysis.code_vs_nl import accuracy

    data = instances_from_responses(simulate_responses(n_models=4, kinds=3, digits=2, instances=8, seeds=2))
    only = accuracy(data[data.arm.isin(["nl", "sim"])], n_boot=100)
    ours = only.accuracy_by_arm.set_index(["model", "arm"])["accuracy"]
    full = result.accuracy_by_arm.set_index(["model", "arm"])["accuracy"]
    assert ours.to_numpy() == pytest.approx(full.loc[ours.index].to_numpy())
    assert {p.stem for p in draw_all(tmp_path, accuracy=only)} == {
        "accuracy_by_arm",
        "accuracy_by_arm_kind",
        "accuracy_by_digit",
    }
    assert "Accuracy by arm" in only.summary() and r"\begin{tabular}" in only.latex()
