"""Deterministic graded responses for benchmarks and tests: a known truth to recover.

Each instance has a difficulty shared by every model, arm and seed (so responses cluster by instance,
as real ones do); a model's accuracy under an arm is a logistic function of its skill, the arm's
offset and the instance's difficulty. Nothing here is a measurement; the ids say `synthetic/`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ARM_OFFSETS = {"nl": 0.0, "sim": 0.4, "controlsim": 0.6, "code": 1.2}
LABS = ("Atlas Labs (synthetic)", "Boreal AI (synthetic)", "Cirrus Research (synthetic)")


def simulate_responses(
    n_models: int = 4,
    kinds: int = 6,
    digits: int = 5,
    instances: int = 40,
    seeds: int = 3,
    arm_offsets: dict[str, float] | None = None,
    instance_sd: float = 1.5,
    random_state: int = 0,
) -> pd.DataFrame:
    """One row per response: model × arm × instance × seed (sample 0), with a `lab` per model.

    `instances` is per kind × digit, so the rows number n_models × arms × kinds × digits × instances × seeds.
    """
    offsets = arm_offsets or ARM_OFFSETS
    rng = np.random.default_rng(random_state)
    kind_names = [f"k{j:02d}" for j in range(kinds)]
    digit_values = np.arange(2, 2 + 2 * digits, 2)
    n_inst = kinds * digits * instances
    inst_kind = np.repeat(np.arange(kinds), digits * instances)
    inst_digit = np.tile(np.repeat(digit_values, instances), kinds)
    hardness = rng.normal(0, instance_sd, n_inst) + 0.15 * (inst_digit - digit_values.mean())
    models = [f"synthetic/model-{j}" for j in range(n_models)]
    skill = np.linspace(0.5, -0.5, n_models) if n_models > 1 else np.zeros(1)
    arms = list(offsets)
    grid = np.stack(
        np.meshgrid(np.arange(n_models), np.arange(len(arms)), np.arange(n_inst), np.arange(seeds), indexing="ij"),
        axis=-1,
    ).reshape(-1, 4)
    m, a, i, s = grid.T
    logit = skill[m] + np.array([offsets[x] for x in arms])[a] - hardness[i]
    correct = rng.random(len(m)) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "model": pd.Categorical.from_codes(m, models),
            "lab": pd.Categorical.from_codes(m % len(LABS), LABS),
            "kind": pd.Categorical.from_codes(inst_kind[i], kind_names),
            "digit": inst_digit[i],
            "arm": pd.Categorical.from_codes(a, arms),
            "seed": s,
            "sample": 0,
            "problem_id": pd.Categorical.from_codes(i, [f"p{j:07d}" for j in range(n_inst)]),
            "is_correct": correct,
        }
    )
