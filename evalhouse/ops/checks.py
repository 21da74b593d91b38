"""The plan's Phase-2 validation, run against the warehouse's marts: does the data hold what the
experiments ask?

Five checks, each pass or fail with the offending rows named:
  counts    expected against collected responses per model × seed
  coverage  every kind × digit answered for every model × arm
  accuracy  every accuracy and interval in [0, 1], n_correct ≤ n, in every accuracy mart
  verdicts  the marts agree: every answered response of run_health is counted in the accuracy marts
  balance   the same number of answered responses in every arm, per model × seed

What is expected comes from the experiment specs (their exact cells, counted per model × seed × kind ×
digit × arm); a model no spec names (an import, an ad-hoc run) is expected to have answered, under every
seed and arm it has, as many instances of each kind × digit as it answered under any seed. What was
collected comes from marts.coverage, like every number evalhouse publishes.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from evalhouse.analysis.sources import COLLECT_HINT, SourceError, warehouse
from evalhouse.config import Paths
from evalhouse.vocabulary import ARM_CODES

from .plan import cells, load_configs

ACCURACY_MARTS = {  # mart -> its key columns
    "acc_model_arm": ("model", "arm"),
    "acc_model_arm_kind": ("model", "arm", "kind"),
    "acc_model_arm_kind_digit": ("model", "arm", "kind", "digit"),
    "acc_lab_arm_kind": ("lab", "arm", "kind"),
    "acc_arm_kind": ("arm", "kind"),
}
REQUIRED_MARTS = ("coverage", "run_health", "acc_model_arm_instance", *ACCURACY_MARTS)
EPS = 1e-9  # interval bounds are floating point: 1 + 2e-16 is 1
SHOW = 12  # offending rows listed per check; the count says how many there are


@dataclass
class Check:
    name: str
    title: str
    passed: bool
    summary: str
    details: list[str] = field(default_factory=list)


@dataclass
class Validation:
    warehouse: Path
    built_at: str
    expectation: str
    checks: list[Check]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def render(self) -> str:
        lines = [f"Validation of {self.warehouse} (built {self.built_at})", f"  expected: {self.expectation}"]
        lines += [f"  note: {n}" for n in self.notes]
        lines.append("")
        for c in self.checks:
            lines.append(f"{'PASS' if c.passed else 'FAIL'}  {c.name:<9} {c.title}: {c.summary}")
            lines += [f"        {d}" for d in c.details]
        passed = sum(c.passed for c in self.checks)
        verdict = "all passed" if self.passed else "failed: " + ", ".join(self.failed)
        lines += ["", f"{passed} of {len(self.checks)} checks passed; {verdict}"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "warehouse": str(self.warehouse),
            "built_at": self.built_at,
            "expectation": self.expectation,
            "passed": self.passed,
            "failed": self.failed,
            "notes": self.notes,
            "checks": [asdict(c) for c in self.checks],
        }


def validate(paths: Paths, experiments: Path) -> Validation:
    """Run every check; raises SourceError when there is no warehouse or it holds no response, and SpecError
    for a bad spec."""
    configs = load_configs(experiments) if any(experiments.glob("*.toml")) else []
    with warehouse(paths.warehouse) as con:
        missing = [m for m in REQUIRED_MARTS if not _exists(con, m)]
        if missing:
            raise SourceError(f"{paths.warehouse} has no marts.{missing[0]}; run `evalhouse build`")
        if not con.execute("select count(*) from marts.run_health").fetchone()[0]:
            raise SourceError(f"nothing to validate: {paths.warehouse} holds no responses; {COLLECT_HINT}")
        arms = ", ".join(f"n_{a} as '{a}'" for a in ARM_CODES)
        con.execute(
            f"create temp table collected as select model, seed, kind, digit, arm, answered "
            f"from (unpivot marts.coverage on {arms} into name arm value answered)"
        )
        expectation = _expect(con, configs, experiments)
        checks = [_guarded(check, con) for check in (_counts, _coverage, _accuracy, _verdicts, _balance)]
    return Validation(paths.warehouse, _built_at(paths.warehouse), expectation, checks, _freshness(paths))


def _exists(con: duckdb.DuckDBPyConnection, mart: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?", [mart]
        ).fetchone()[0]
    )


def _guarded(check, con: duckdb.DuckDBPyConnection) -> Check:
    """A check that cannot run (a table missing or changed) fails, saying why, and the others still run."""
    try:
        return check(con)
    except duckdb.Error as exc:
        name = check.__name__.lstrip("_")
        return Check(name, "could not run", False, str(exc).splitlines()[0])


def _expect(con: duckdb.DuckDBPyConnection, configs, experiments: Path) -> str:
    """Create temp table `expected` (model, seed, kind, digit, arm, n): the specs' cells, plus what the
    data implies for models no spec names."""
    counted = Counter((c.model, c.seed, c.kind, c.digit, c.arm) for _, config in configs for c in cells(config))
    names = ["model", "seed", "kind", "digit", "arm", "n"]
    spec_cells = pa.table(
        {n: [key[i] for key in counted] if n != "n" else list(counted.values()) for i, n in enumerate(names)},
        schema=pa.schema([(n, pa.int64() if n in ("seed", "digit", "n") else pa.string()) for n in names]),
    )
    con.register("spec_cells", spec_cells)
    con.execute(
        """
        create temp table expected as
        select * from spec_cells
        union all
        select c.model, s.seed, c.kind, c.digit, a.arm, c.n
        from (
            select model, kind, digit, max(n_instances) as n from marts.coverage group by model, kind, digit
        ) as c
        join (select distinct model, seed from marts.coverage) as s using (model)
        join (select distinct model, arm from collected where answered > 0) as a using (model)
        where c.model not in (select model from spec_cells)
        """
    )
    spec_models = {key[0] for key in counted}
    implied = con.execute(
        "select count(distinct model) from expected where model not in (select model from spec_cells)"
    ).fetchone()[0]
    parts = []
    if configs:
        parts.append(
            f"{sum(counted.values())} cells of {len(configs)} spec(s) in {experiments}/ ({len(spec_models)} models)"
        )
    if implied or not configs:
        parts.append(f"{implied} model(s) no spec names: every problem it was asked, under each of its seeds and arms")
    return "; ".join(parts)


def _counts(con) -> Check:
    rows = con.execute(
        """
        select e.model, e.seed, sum(e.n) as expected, sum(least(coalesce(c.answered, 0), e.n)) as collected,
               any_value(u.unanswered) as errors
        from expected as e
        left join collected as c using (model, seed, kind, digit, arm)
        left join (
            select model, seed, sum(n_unanswered) as unanswered from marts.coverage group by model, seed
        ) as u using (model, seed)
        group by e.model, e.seed order by all
        """
    ).fetchall()
    short = [r for r in rows if r[3] < r[2]]
    total, got = sum(r[2] for r in rows), sum(r[3] for r in rows)
    details = [
        f"{m} seed {s}: {c} of {e} collected ({e - c} missing; {err or 0} stored as API errors or never run)"
        for m, s, e, c, err in short[:SHOW]
    ]
    if not rows:
        details = ["no responses in the warehouse: run `evalhouse ingest run …`, then `evalhouse build`"]
    return Check(
        "counts",
        "expected vs collected per model × seed",
        not short and bool(rows),
        f"{len(rows) - len(short)} of {len(rows)} model × seed complete; {got} of {total} responses",
        details + _more(short),
    )


def _coverage(con) -> Check:
    rows = con.execute(
        """
        select e.model, e.arm, e.kind, e.digit, coalesce(sum(c.answered), 0) as answered
        from expected as e left join collected as c using (model, seed, kind, digit, arm)
        group by e.model, e.arm, e.kind, e.digit order by all
        """
    ).fetchall()
    holes = [r for r in rows if r[4] == 0]
    details = [f"{m} × {arm} × {kind} × digit {digit}: no answered response" for m, arm, kind, digit, _ in holes[:SHOW]]
    kinds = len({r[2] for r in rows})
    digits = len({r[3] for r in rows})
    return Check(
        "coverage",
        "kinds × digits per model × arm",
        not holes and bool(rows),
        f"{len(rows) - len(holes)} of {len(rows)} cells answered ({kinds} kinds, {digits} digits)",
        details + _more(holes),
    )


def _accuracy(con) -> Check:
    bad, checked = [], 0
    for mart, keys in ACCURACY_MARTS.items():
        checked += con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
        rows = con.execute(
            f"""
            select concat_ws(' × ', {", ".join(keys)}), n, n_correct, accuracy, ci_low, ci_high, accuracy_reported
            from marts.{mart}
            where accuracy is null or isnan(accuracy) or accuracy < 0 or accuracy > 1
               or ci_low < -{EPS} or ci_high > 1 + {EPS} or ci_low > accuracy + {EPS} or ci_high < accuracy - {EPS}
               or n <= 0 or n_correct < 0 or n_correct > n
               or (accuracy_reported is not null and (isnan(accuracy_reported)
                   or accuracy_reported < 0 or accuracy_reported > 1))
            order by all
            """
        ).fetchall()
        bad += [
            f"{mart} {key}: n={n}, n_correct={k}, accuracy={acc!r}, interval=[{lo!r}, {hi!r}], "
            f"accuracy_reported={rep!r}"
            for key, n, k, acc, lo, hi, rep in rows
        ]
    return Check(
        "accuracy",
        "accuracy and Wilson interval in [0, 1], n_correct ≤ n",
        not bad,
        f"{checked - len(bad)} of {checked} rows of {', '.join(ACCURACY_MARTS)} in range",
        bad[:SHOW] + _more(bad),
    )


def _verdicts(con) -> Check:
    answered = con.execute("select coalesce(sum(n_answered), 0) from marts.run_health").fetchone()[0]
    counts = {
        mart: con.execute(f"select coalesce(sum(n), 0), coalesce(sum(n_correct), 0) from marts.{mart}").fetchone()
        for mart in ("acc_model_arm_instance", "acc_model_arm", "acc_model_arm_kind", "acc_model_arm_kind_digit")
    }
    details = [
        f"marts.{mart} counts {n} answered responses ({k} correct); marts.run_health has {answered} answered"
        for mart, (n, k) in counts.items()
        if n != answered
    ]
    if len(set(counts.values())) > 1:
        details.append(
            "the accuracy marts disagree: " + "; ".join(f"{m} n={n}, n_correct={k}" for m, (n, k) in counts.items())
        )
    return Check(
        "verdicts",
        "the accuracy marts count every answered response of run_health",
        not details,
        f"{answered} answered responses; {counts['acc_model_arm_kind'][0]} counted in the accuracy marts",
        details,
    )


def _balance(con) -> Check:
    rows = con.execute(
        """
        select model, seed, arm, sum(answered) as n
        from (select distinct model, arm from expected) as arms
        join collected using (model, arm)
        group by model, seed, arm order by all
        """
    ).fetchall()
    per_cell: dict[tuple, dict[str, int]] = defaultdict(dict)
    for model, seed, arm, n in rows:
        per_cell[(model, seed)][arm] = n
    arms_of = defaultdict(set)
    for model, _, arm, _ in rows:
        arms_of[model].add(arm)
    unbalanced = []
    for (model, seed), counts in sorted(per_cell.items()):
        full = {arm: counts.get(arm, 0) for arm in sorted(arms_of[model])}
        if len(set(full.values())) > 1:
            unbalanced.append(f"{model} seed {seed}: " + ", ".join(f"{a} {n}" for a, n in full.items()))
    return Check(
        "balance",
        "answered responses per arm, per model × seed",
        not unbalanced and bool(per_cell),
        f"{len(per_cell) - len(unbalanced)} of {len(per_cell)} model × seed balanced across arms",
        unbalanced[:SHOW] + _more(unbalanced),
    )


def _more(items: list) -> list[str]:
    return [f"… and {len(items) - SHOW} more"] if len(items) > SHOW else []


def _built_at(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")


def _freshness(paths: Paths) -> list[str]:
    """A note when shards on disk are newer than the warehouse (validation then reads older data)."""
    newer = modified_since(paths.raw, paths.warehouse.stat().st_mtime)
    if not newer:
        return []
    return [f"{newer} shard(s) under {paths.raw} are newer than the warehouse; run `evalhouse build` to include them"]


def modified_since(folder: Path | str, when: float) -> int:
    """Shards under `folder` (a local folder, or an s3:// one) changed after `when` (a POSIX time)."""
    if isinstance(folder, str):
        from evalhouse.storage import modified_since as objects_modified_since

        return objects_modified_since(folder, when)
    return sum(1 for f in folder.rglob("*.parquet") if os.stat(f).st_mtime > when) if folder.exists() else 0
