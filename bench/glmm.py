"""Benchmark: the binomial GLMM `correct ~ arm + (1|model) + (1|instance)` on 1,000,000 responses
(10,000 instances × 30 models × 4 arms, 1,000,000 of the 1,200,000 cells kept at random; seeded), against
R's glmer on the same data file in the same run.

Prints our time and glmer's (the `glmer` call alone; reading the CSV is timed apart), the ratio, and the
largest relative difference of the figures (fixed estimates, standard errors, the two variances, the
log-likelihood) against glmer with its defaults and, with --tight, against glmer with a tight PIRLS
tolerance and optimizer (tolPwrss = 1e-12, bobyqa rhoend 1e-10: the optimum of the Laplace deviance itself).

    .venv/bin/python bench/glmm.py [--instances 10000] [--models 30] [--rows 1000000] [--tight] [--no-r]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evalhouse.analysis.lmm import fit

FORMULA = "correct ~ arm + (1|model) + (1|instance)"
ARMS = ["nl", "sim", "controlsim", "code"]

R_SCRIPT = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
d <- read.csv(args[1], stringsAsFactors = FALSE)
t1 <- proc.time()[["elapsed"]]
c1 <- sum(proc.time()[c("user.self", "sys.self")])
ctrl <- if (args[3] == "tight") {
  glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5), tolPwrss = 1e-12)
} else glmerControl()
m <- glmer(correct ~ arm + (1 | model) + (1 | instance), data = d, family = binomial, control = ctrl)
t2 <- proc.time()[["elapsed"]]
c2 <- sum(proc.time()[c("user.self", "sys.self")])
vc <- as.data.frame(VarCorr(m))
out <- list(read_s = t1 - t0, fit_s = t2 - t1, cpu_s = c2 - c1, loglik = as.numeric(logLik(m)),
            estimate = as.list(fixef(m)), se = as.list(sqrt(diag(as.matrix(vcov(m))))),
            variance = setNames(as.list(vc$vcov), vc$grp))
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = 15), args[2])
"""


def simulate(instances: int, models: int, rows: int, seed: int = 18) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cells = instances * models * len(ARMS)
    keep = np.sort(rng.choice(cells, size=min(rows, cells), replace=False))
    inst, rest = np.divmod(keep, models * len(ARMS))
    model, arm = np.divmod(rest, len(ARMS))
    b_inst = rng.normal(0, 1.5, instances)
    b_model = rng.normal(0, 0.8, models)
    arm_effect = np.array([0.0, 0.2, 0.4, 0.9])
    eta = -0.3 + arm_effect[arm] + b_model[model] + b_inst[inst]
    correct = (rng.random(len(keep)) < 1 / (1 + np.exp(-eta))).astype(np.int8)
    return pd.DataFrame(
        {
            "instance": np.char.add("i", inst.astype(str)),
            "model": np.char.add("m", model.astype(str)),
            "arm": np.array(ARMS)[arm],
            "correct": correct,
        }
    )


def figures(res) -> dict[str, float]:
    out = {"loglik": res.loglik}
    for term, row in res.fixed.iterrows():
        out[f"estimate {term}"] = row.estimate
        out[f"se {term}"] = row.se
    for r in res.random:
        out[f"variance {r['group']}"] = r["variance"]
    return out


def r_figures(data: dict) -> dict[str, float]:
    out = {"loglik": data["loglik"]}
    out |= {f"estimate {k}": v for k, v in data["estimate"].items()}
    out |= {f"se {k}": v for k, v in data["se"].items()}
    out |= {f"variance {k}": v for k, v in data["variance"].items()}
    return out


def run_glmer(csv: Path, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script, out = Path(tmp) / "glmer.R", Path(tmp) / "out.json"
        script.write_text(R_SCRIPT)
        start = time.perf_counter()
        subprocess.run(["Rscript", str(script), str(csv), str(out), mode], check=True)
        data = json.loads(out.read_text())
        data["wall_s"] = time.perf_counter() - start
        return data


def compare(ours: dict[str, float], theirs: dict[str, float]) -> tuple[float, str]:
    worst, name = 0.0, ""
    for k, v in theirs.items():
        err = abs(ours[k] - v) / abs(v)
        if err > worst:
            worst, name = err, k
    return worst, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tight", action="store_true", help="also run glmer with tight tolerances")
    parser.add_argument("--no-r", action="store_true", help="time our fit only")
    args = parser.parse_args()
    data = simulate(args.instances, args.models, args.rows)
    print(f"{len(data):,} responses: {args.instances:,} instances × {args.models} models × {len(ARMS)} arms (seeded)")
    start, cpu = time.perf_counter(), time.process_time()
    res = fit(FORMULA, data, family="binomial")
    ours_s, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"  evalhouse lmm.fit (binomial, Laplace)      {ours_s:>8.1f} s wall {ours_cpu:>8.1f} s cpu")
    print("  " + res.summary().replace("\n", "\n  "))
    if args.no_r:
        return
    mine = figures(res)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "responses.csv"
        data.to_csv(csv, index=False)
        theirs = {}
        for mode in ["default"] + (["tight"] if args.tight else []):
            r = run_glmer(csv, mode)
            theirs[mode] = r_figures(r)
            worst, name = compare(mine, theirs[mode])
            print(
                f"  R glmer ({mode:<7})  fit {r['fit_s']:>8.1f} s wall {r['cpu_s']:>8.1f} s cpu  "
                f"(read.csv {r['read_s']:.1f} s)   ratio glmer/ours {r['fit_s'] / ours_s:>5.1f}× wall, "
                f"{r['cpu_s'] / ours_cpu:>5.1f}× cpu   largest relative difference {worst:.2e} ({name})"
            )
    print(f"\n  {'figure':<28}{'ours':>16}" + "".join(f"{'glmer ' + m:>18}" for m in theirs))
    for k, v in mine.items():
        print(f"  {k:<28}{v:>16.8g}" + "".join(f"{t.get(k, float('nan')):>18.8g}" for t in theirs.values()))


if __name__ == "__main__":
    main()
