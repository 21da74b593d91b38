"""Benchmark: every analysis over ~1,000,000 graded responses (deterministic synthetic data).

The responses are counted per model × instance × arm in DuckDB (the mart marts.acc_model_arm_instance,
~1/3 of the rows with 3 seeds). Times, on the same data in the same run (and code_vs_nl again on a second
shape with 250,000 instances):
  - reading marts.acc_model_arm_instance from a DuckDB warehouse file (`load_instances`),
  - `code_vs_nl` (1,000-resample instance bootstrap, paired tests, repeated-measures ANOVAs, criteria),
  - drawing every figure (PNG + PDF),
  - `fit_mixedlm` on all rows (is_correct ~ arm + (1|problem_id)),
and prints each against a baseline measured here: a per-replicate pandas bootstrap (timed on a few
replicates, scaled to 1,000), statsmodels' AnovaRM on a 150-instance subsample (`within_two_way` on the
same instances, for the ratio), and
statsmodels' MixedLM on a 20,000-row subsample (our fit on the same subsample, for the ratio).

    .venv/bin/python bench/analysis_code_vs_nl.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from evalhouse.analysis.anova import within_two_way
from evalhouse.analysis.code_vs_nl import code_vs_nl, instances_from_responses
from evalhouse.analysis.figures import draw_all
from evalhouse.analysis.mixedlm import fit_mixedlm
from evalhouse.analysis.simulate import simulate_responses
from evalhouse.analysis.sources import load_instances


def timed(label: str, fn, *args, **kwargs):
    """Wall time (what the target is about) and this process's CPU time (robust when others share the cores)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"  {label:<58}{seconds:>8.2f} s wall {time.process_time() - cpu:>8.2f} s cpu")
    return out, seconds


def write_warehouse(responses: pd.DataFrame, path: Path) -> None:
    """The instance mart as the dbt build makes it: responses counted per model × problem_id × arm."""
    con = duckdb.connect(str(path))
    con.execute("set memory_limit = '2GB'")
    con.execute("create schema marts")
    frame = responses.astype({c: str for c in ("model", "lab", "kind", "arm", "problem_id")})
    con.register("frame", frame)
    con.execute("""
        create table marts.acc_model_arm_instance as
        select model, any_value(lab) as lab, problem_id, any_value(kind) as kind, any_value(digit) as digit, arm,
               count(*) as n, count(*) filter (where is_correct) as n_correct,
               avg(cast(is_correct as int)) as accuracy, 0 as n_reported, 0 as n_correct_reported
        from frame
        group by model, problem_id, arm
    """)
    con.close()


def pandas_bootstrap(responses: pd.DataFrame, replicates: int, seed: int = 0) -> None:
    """The obvious way: per replicate, resample instances with a merge and recompute accuracy by cell."""
    rng = np.random.default_rng(seed)
    instances = responses[["problem_id", "kind", "digit"]].drop_duplicates()
    for _ in range(replicates):
        draw = instances.groupby(["kind", "digit"], observed=True).sample(frac=1, replace=True, random_state=rng)
        sample = draw[["problem_id"]].merge(responses, on="problem_id")
        sample.groupby(["model", "arm", "kind"], observed=True)["is_correct"].mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="approximate number of responses")
    args = parser.parse_args()
    per_kind_digit = max(
        1, round(args.rows / (4 * 4 * 20 * 10 * 3))
    )  # 4 models × 4 arms × 20 kinds × 10 digits × 3 seeds
    responses = simulate_responses(n_models=4, kinds=20, digits=10, instances=per_kind_digit, seeds=3)
    print(
        f"{len(responses):,} responses: 4 models × 4 arms × 20 kinds × 10 digits × {per_kind_digit} instances × 3 seeds"
    )

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        write_warehouse(responses, db)
        loaded, t_load = timed("read marts.acc_model_arm_instance (DuckDB → pandas)", load_instances, warehouse_path=db)
        print(f"  ({len(loaded):,} model × instance × arm rows)")
        result, t_cvn = timed("code_vs_nl (1,000 bootstrap resamples)", code_vs_nl, loaded)
        _, t_fig = timed("draw every figure (PNG + PDF)", draw_all, Path(tmp) / "figures", accuracy=result)
    _, _t_mixed = timed(
        "fit_mixedlm is_correct ~ arm + (1|problem_id), all rows",
        fit_mixedlm,
        responses.astype({"arm": str, "problem_id": str}),
        "is_correct ~ arm",
        "problem_id",
        check_statsmodels=False,
    )
    total = t_load + t_cvn + t_fig
    print(f"  {'load + code_vs_nl + figures':<58}{total:>8.2f} s wall (target < 30 s)")

    wide_per_cell = max(1, round(args.rows / (2 * 2 * 10 * 10)))
    wide = simulate_responses(
        n_models=2, kinds=10, digits=10, instances=wide_per_cell, seeds=1, arm_offsets={"nl": 0.0, "code": 1.2}
    )
    print(
        f"\n{len(wide):,} responses, many instances: 2 models × 2 arms × 100 kind×digit cells × "
        f"{wide_per_cell:,} instances × 1 seed ({wide['problem_id'].nunique():,} instances)"
    )
    wide_instances, _ = timed("instances_from_responses (pandas groupby)", instances_from_responses, wide)
    timed("code_vs_nl (1,000 bootstrap resamples)", code_vs_nl, wide_instances)

    print("\nbaselines (same data, same run)")
    few = 5
    _, t_pd = timed(f"pandas per-replicate bootstrap, {few} replicates", pandas_bootstrap, responses, few)
    print(
        f"  → 1,000 replicates ≈ {t_pd / few * 1000:,.0f} s; vectorised code_vs_nl (everything) is "
        f"{t_pd / few * 1000 / t_cvn:,.0f}× faster"
    )

    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import AnovaRM

    # AnovaRM builds a dense design with a column per subject: a 150-instance subsample is what it can hold in reasonable time
    keep = np.sort(loaded["problem_id"].unique())[:: max(1, loaded["problem_id"].nunique() // 150)][:150]
    cells = loaded[loaded.arm.isin(["code", "nl"]) & loaded.problem_id.isin(keep)]
    cells = cells[["model", "arm", "problem_id", "accuracy"]]
    _, t_sm = timed(
        f"statsmodels AnovaRM model × arm within instance ({len(keep)} instances)",
        lambda: AnovaRM(cells, "accuracy", "problem_id", within=["model", "arm"]).fit(),
    )
    cube = cells.pivot_table(index="problem_id", columns=["model", "arm"], values="accuracy").to_numpy()
    cube = cube.reshape(len(cube), -1, 2)
    _, t_ours = timed("within_two_way (same instances)", within_two_way, cube, ("model", "arm"))
    print(f"  → {t_sm / t_ours:,.0f}× faster")

    sub = responses.sample(20_000, random_state=0).astype({"arm": str, "problem_id": str})
    sub["is_correct"] = sub["is_correct"].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, t_smm = timed(
            "statsmodels MixedLM.fit (20,000-row subsample)",
            lambda: smf.mixedlm("is_correct ~ arm", sub, groups=sub["problem_id"]).fit(),
        )
    _, t_oursm = timed(
        "fit_mixedlm (same subsample)", fit_mixedlm, sub, "is_correct ~ arm", "problem_id", check_statsmodels=False
    )
    print(f"  → {t_smm / t_oursm:,.1f}× faster")


if __name__ == "__main__":
    main()
