"""Lab effects: the seed's reviewer response with numbers checked independently and text that follows them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalhouse.analysis.lab_effects import exclude_category, exclude_model, lab_effects, load_metrics

from .conftest import REPO

SEED_TABLE = REPO / "examples" / "hubris_models.csv"


@pytest.fixture(scope="module")
def metrics() -> pd.DataFrame:
    return load_metrics(str(SEED_TABLE))


@pytest.fixture(scope="module")
def result(metrics):
    return lab_effects(metrics, "hubris", [exclude_model("Phi-4"), exclude_category("reasoning")], [("d1", "d2")])


def test_wide_file_becomes_long_with_missing_values_kept_missing(metrics):
    """The seed's wide table gives one row per model × metric; Phi-4's missing d1 stays missing."""
    assert set(metrics.metric) == {"hubris", "d1", "d2"} and len(metrics) == 93
    assert metrics.query("model == 'Phi-4' and metric == 'd1'").value.isna().all()


def test_naive_comparison_by_hand(result):
    """Cohen's d with the pooled SD and Student's t, computed here from the raw values."""
    d = pd.read_csv(SEED_TABLE)
    a, b = d[d.is_flagship == 1].hubris, d[d.is_flagship == 0].hubris
    pooled = math.sqrt(((len(a) - 1) * a.var() + (len(b) - 1) * b.var()) / (len(a) + len(b) - 2))
    assert result.naive.cohens_d == pytest.approx((a.mean() - b.mean()) / pooled)
    t = (a.mean() - b.mean()) / (pooled * math.sqrt(1 / len(a) + 1 / len(b)))
    assert result.naive.t_stat == pytest.approx(t)
    assert result.naive.p_value == pytest.approx(2 * stats.t.sf(abs(t), len(a) + len(b) - 2))
    assert result.naive.cohens_d == pytest.approx(-4.384, abs=1e-3)  # not the seed's hard-coded −5.80


def test_mixed_models_match_lme4_on_all_subsets(result):
    """All models, without Phi-4 and without reasoning models: lme4's REML figures (shared/reference)."""
    lme4 = {
        "all": (-0.4206243, 0.033685039, 0.46304),
        "no_phi_4": (-0.44264787, 0.030486192, 0.0756703),
        "no_reasoning": (-0.4024489, 0.01906483, 0.820844),
    }
    assert [f.subset.name for f in result.fits] == list(lme4)
    for f in result.fits:
        beta, se, icc = lme4[f.subset.name]
        assert f.effect == pytest.approx(beta, rel=1e-4) and f.se == pytest.approx(se, rel=1e-4)
        assert f.fit.icc == pytest.approx(icc, rel=1e-4)
    assert result.fits[1].models_excluded == ["Phi-4"]
    assert result.fits[2].models_excluded == ["DeepSeek R1", "o3-mini"]


def test_correlation_drops_missing_and_matches_scipy(result):
    """d1–d2 over the 30 models that have both (Phi-4's d1 is missing, not zero)."""
    d = pd.read_csv(SEED_TABLE).dropna(subset=["d1", "d2"])
    c = result.correlations[0]
    assert c.n == 30 and c.models_dropped == ["Phi-4"]
    assert c.pearson_r == pytest.approx(stats.pearsonr(d.d1, d.d2).statistic)
    assert c.spearman_rho == pytest.approx(stats.spearmanr(d.d1, d.d2).statistic)


def test_latex_claims_follow_the_numbers(result, metrics):
    """Non-singular fits are not called singular; the text's numbers are the result's; a singular
    fit, and a subset that changes the conclusion, are said when they happen."""
    text = result.latex()
    assert "singular" not in text and f"{result.primary.effect:.3f}" in text
    assert "Four of eleven labs contribute a single model" in text
    assert "No exclusion changes the sign or the 5\\% significance" in text
    assert "strongly positively correlated" in text
    ml = lab_effects(metrics, "d2", reml=False)  # lme4: d2 ~ is_flagship + (1|lab) is singular under ML
    assert ml.primary.fit.singular and "singular fit" in ml.latex() and "ICC} = 0" in ml.latex()
    rng = np.random.default_rng(0)
    noise = metrics[metrics.metric == "hubris"].assign(value=lambda f: rng.normal(0, 1, len(f)))
    noise.loc[noise.model.isin(["o3-mini", "DeepSeek R1"]), "value"] = -40.0
    shaky = lab_effects(noise, "hubris", [exclude_category("reasoning")])  # the effect is the two outliers'
    assert shaky.primary.p_value < 0.05 and shaky.sensitivity[0].p_value > 0.5
    assert "The conclusion changes when excluding reasoning models" in shaky.latex()
    assert "No exclusion" not in shaky.latex() and shaky.to_dict()["robust_to_subsets"] is False


def test_unknown_names_are_clear_errors(metrics):
    """A model or category that is not in the data, or an unknown metric, is named in the error."""
    with pytest.raises(ValueError, match="--exclude-model 'GPT-9'"):
        lab_effects(metrics, "hubris", [exclude_model("GPT-9")])
    with pytest.raises(ValueError, match="--exclude-category 'tiny'"):
        lab_effects(metrics, "hubris", [exclude_category("tiny")])
    with pytest.raises(ValueError, match=r"no values for metric 'nope'.*hubris"):
        lab_effects(metrics, "nope")


def test_summary_and_json(result):
    """The console summary lists every subset; to_dict is strict JSON with the seed's sections."""
    import json

    s = result.summary()
    assert "excluding Phi-4" in s and "excluding reasoning models" in s and "d1 vs d2" in s
    d = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(d["mixed_effects"]) == {"all", "no_phi_4", "no_reasoning"} and d["robust_to_subsets"] is True
