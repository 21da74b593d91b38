"""Deterministic, realistic raw shards for the warehouse benchmarks.

Every value is a pure function of the row number (DuckDB's `hash`, numpy splitmix64), so the same
arguments write the same files on any machine. The data looks like a real collection: 16 models × 4 arms
× 3 seeds over fine-grained (digits 2–20) and NP-hard problems; ~1.5 KB of text per response (the prompt,
then a chain of thought with numbers in it and a fenced JSON answer); 3% of first attempts fail with an
API error and one row in a hundred was retried successfully in a later run (1% duplicates, 2% errors
that stay); 3% of answers cannot be parsed. Two of the 16 models come from a legacy import whose
shards hold only the contract's required columns, so the warehouse reads their answers from the text.

`--append P` writes a later batch in new shards: P% new responses (new problems for every model), plus
a retry of one in twenty of the errors that stayed, which must replace the stored error row.

    python bench/gen_shards.py --responses 1000000 --out /tmp/evalhouse-bench/1m
    python bench/gen_shards.py --responses 1000000 --out /tmp/evalhouse-bench/1m --append 1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from evalhouse.ingest.answers import EXTRACTOR_VERSION
from evalhouse.ingest.shards import RESPONSE_SCHEMA

MODELS = [
    "mistralai/codestral-2508",
    "mistralai/mistral-large-2411",
    "google/gemini-2.0-flash-001",
    "mistralai/mixtral-8x22b-instruct",
    "openai/gpt-4o-mini",
    "openai/gpt-4.1",
    "anthropic/claude-haiku-4.5",
    "anthropic/claude-sonnet-4.5",
    "meta-llama/llama-3.3-70b-instruct",
    "qwen/qwen-2.5-72b-instruct",
    "deepseek/deepseek-chat-v3",
    "google/gemma-3-27b-it",
    "x-ai/grok-3-mini",
    "amazon/nova-pro-v1",
    # the last two arrive through a legacy import: required columns only, no parsed answer
    "cohere/command-r-plus",
    "microsoft/phi-4",
]
LEGACY_FROM = 14
ARMS = ["nl", "sim", "controlsim", "code"]
SEEDS = [0, 1, 2]
FINE = ["add", "sub", "mul", "lcs", "knap", "rod", "ilp_assign", "ilp_prod", "ilp_partition"]
CELLS = [(k, d) for k in FINE for d in range(2, 21, 2)] + [(k, 0) for k in ("tsp", "gcp", "spp")]
ERROR_CLASSES = ["rate_limited", "server_error", "timeout", "connection"]
PER_PROBLEM = len(MODELS) * len(SEEDS) * len(ARMS)
REQUIRED = [f.name for f in RESPONSE_SCHEMA][:17]


def sql_list(values: list) -> str:
    return "[" + ",".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def sentences(n: int = 8192) -> pa.Array:
    """Pseudo-English sentences of pronounceable words, so the text compresses like prose, not noise."""
    rng = random.Random(7)
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["the", "and", "so", "we", "is", "of"]
    words = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(6000)})
    return pa.array([" ".join(rng.choice(words) for _ in range(rng.randint(6, 14))) + "." for _ in range(n)])


def mix(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64: a fast, well-spread, deterministic hash of each element."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt * 0xBF58476D1CE4E5B9 % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def reasoning(b: np.ndarray, attempt: np.ndarray, pool: pa.Array) -> pa.Array:
    """~1.2 KB of chain of thought per row: sentences from the pool with the row's own numbers between."""
    seed = b.astype(np.uint64) * np.uint64(4) + attempt.astype(np.uint64)
    pieces = []
    for j in range(15):
        pieces.append(pool.take(pa.array(mix(seed, j) % np.uint64(len(pool)))))
        pieces.append(pc.cast(pa.array(mix(seed, 100 + j) % np.uint64(100000)), pa.string()))
    return pc.binary_join_element_wise(*pieces, " ")


# The structured columns. One (model, seed, arm) combination per row within a problem:
# b -> p = b // 192, combo = b % 192. Retry rows carry the base row they retry in `b`.
ROWS_SQL = """
with rows as ({rows}),
keyed as (
    select *,
        b // {per_problem} as p,
        (b % {per_problem}) // {per_model} as m,
        ((b % {per_problem}) // {arms}) % {seeds} as seed,
        b % {arms} as arm_i
    from rows
),
shaped as (
    select *,
        {models}[1 + m] as model,
        {arm_names}[1 + arm_i] as arm,
        {kinds}[1 + (p % {cells})::bigint] as kind,
        {digits}[1 + (p % {cells})::bigint] as digit,
        substr(sha256('g1|' || p), 1, 24) as problem_id,
        -- 3% of first attempts fail: one row in a hundred was retried later and succeeded; 2% stay failed
        not is_retry and (hash(b, 'err') % 10000 < 200 or b % 100 = hash(b // 100, 'retry') % 100) as is_error,
        hash(b, 'parse') % 10000 < 300 as is_unparseable,
        {gold} as gold
    from keyed
),
judged as (
    select *,
        hash(b, 'correct') % 1000 < 1000 * greatest(0.05, 0.95 - m * 0.03 - digit * 0.03 + arm_i * 0.05) as is_right
    from shaped
)
select
    b, p, arm_i, attempt_no, is_error, is_unparseable,
    case when is_right then gold else (gold::hugeint + 1 + hash(b, 'off') % 97)::varchar end as answer,
    substr(sha256(model || '|' || problem_id || '|' || arm || '|' || seed || '|0'), 1, 32) as response_id,
    'run-' || attempt_no || '-' || m || '-' || seed as run_id,
    case when m >= {legacy_from} then 'toolproj' else 'collector' end as source,
    model, problem_id, kind, digit::integer as digit, arm, seed::integer as seed,
    gold as gold_answer,
    case when m >= {legacy_from} and not is_error then not is_unparseable and is_right end as reported_correct,
    case when is_error then 'HTTP error: ' || {errors}[1 + (hash(b, 'cls') % 4)::bigint] end as error,
    case when not is_error then 300 + (hash(b, attempt_no, 'lat') % 30000) / 3.0 end as latency_ms,
    case when not is_error and arm <> 'code' then (90 + hash(p, 'pt') % 200)::bigint end as prompt_tokens,
    case when not is_error and arm <> 'code' then (250 + hash(b, 'ct') % 400)::bigint end as completion_tokens,
    0::integer as sample,
    case when is_error then 4 else 1 end::integer as attempt,
    timestamptz '2026-01-10 00:00:00+00' + to_days(attempt_no * 30) + to_milliseconds(b * 37) as created_at,
    'p1' as prompt_version,
    0.0::double as temperature,
    4096::integer as max_tokens,
    case when not is_error then model end as provider_model,
    case when not is_error then 'stop' end as finish_reason,
    case when not is_error and arm <> 'code' then (hash(b, 'cost') % 1000) / 1e6 end as cost,
    case when is_error then {errors}[1 + (hash(b, 'cls') % 4)::bigint] end as error_class,
    case when is_error then [429, 500, null, null][1 + (hash(b, 'cls') % 4)::bigint] end::integer as status_code,
    case when not is_error and not is_unparseable then answer end as parsed_answer,
    case when not is_error and is_unparseable then 'no_json_object' end as parse_error,
    '{extractor_version}' as extractor_version,
    case when is_error then null when is_unparseable then 'parse_error' when is_right then 'correct' else 'wrong' end as verdict,
    case when is_error then null when is_unparseable then 'no_json_object' when is_right then 'ok' else 'wrong_value' end as verdict_reason,
    case when arm = 'code' and not is_error then 'ok' end as exec_status,
    case when arm = 'code' and not is_error then 0 end::integer as exec_exit_code,
    null::varchar as exec_limit,
    case when arm = 'code' and not is_error then '' end as exec_stderr
from judged
"""

GOLD = (
    "case when {digits}[1 + (p % {cells})::bigint] > 0 "
    "then ((hash(p, 'gold') % (10 ** least({digits}[1 + (p % {cells})::bigint], 18))::ubigint) + 1)::varchar "
    "else (100 + hash(p, 'gold') % 900)::varchar end"
)


def constants() -> dict:
    c = dict(
        per_problem=PER_PROBLEM,
        per_model=len(SEEDS) * len(ARMS),
        arms=len(ARMS),
        seeds=len(SEEDS),
        models=sql_list(MODELS),
        arm_names=sql_list(ARMS),
        kinds=sql_list([k for k, _ in CELLS]),
        digits=sql_list([d for _, d in CELLS]),
        cells=len(CELLS),
        errors=sql_list(ERROR_CLASSES),
        extractor_version=EXTRACTOR_VERSION,
        legacy_from=LEGACY_FROM,
    )
    c["gold"] = GOLD.format(**c)
    return c


def problems_sql(lo: int, hi: int) -> str:
    c = constants()
    return f"""
    select substr(sha256('g1|' || p), 1, 24) as problem_id,
           {c["kinds"]}[1 + (p % {c["cells"]})::bigint] as kind,
           {c["digits"]}[1 + (p % {c["cells"]})::bigint]::integer as digit,
           (p // {c["cells"]})::integer as "index",
           'Problem ' || p as question,
           {c["gold"]} as gold_answer,
           '{{"p": ' || p || '}}' as instance_json
    from range({lo}, {hi}) t(p)
    """


def base_rows(lo: int, hi: int) -> str:
    return f"select i as b, false as is_retry, 0 as attempt_no from range({lo}, {hi}) t(i)"


def retry_rows(lo: int, hi: int) -> str:
    """Retries of the one-in-a-hundred failures: block k retries the row it chose to fail."""
    return f"select (k * 100 + hash(k, 'retry') % 100)::bigint as b, true as is_retry, 1 as attempt_no from range({lo}, {hi}) t(k)"


def late_retry_rows(base: int) -> str:
    """A later run re-asks one in twenty of the errors that stayed, and they succeed."""
    return (
        f"select b, true as is_retry, 2 as attempt_no from range({base}) t(b) "
        f"where hash(b, 'err') % 10000 < 200 and b % 100 <> hash(b // 100, 'retry') % 100 and hash(b, 'late') % 20 = 0"
    )


class Texts:
    """The prompt and response text of each row, assembled with Arrow compute (DuckDB lambdas are slow)."""

    def __init__(self) -> None:
        self.pool = sentences()

    def prompts(self, t: pa.Table) -> pa.Array:
        p = t["p"].to_numpy()
        numbers = [pc.cast(pa.array(mix(p, 200 + j) % np.uint64(10000)), pa.string()) for j in range(24)]
        instance = pc.binary_join_element_wise(*numbers, ", ")
        asked = pc.binary_join_element_wise(
            "You are given a ",
            t["kind"],
            " problem of size ",
            pc.cast(t["digit"], pa.string()),
            '. Think step by step, then reply with one JSON object {"reasoning": ..., "answer": ...}. The instance is ',
            instance,
            ".",
            "",
        )
        program = pc.binary_join_element_wise(
            "def solve():\n    # ",
            t["kind"],
            " instance\n    values = [",
            instance,
            "]\n    return ",
            t["gold_answer"],
            "\nprint(solve())",
            "",
        )
        return pc.if_else(pc.equal(t["arm"], "code"), program, asked)

    def responses(self, t: pa.Table) -> pa.Array:
        thought = reasoning(t["b"].to_numpy(), t["attempt_no"].to_numpy(), self.pool)
        answered = pc.binary_join_element_wise(
            thought, '\n```json\n{"reasoning": "see above", "answer": ', t["answer"], "}\n```", ""
        )
        unfinished = pc.binary_join_element_wise(thought, " I could not finish the computation.", "")
        text = pc.if_else(t["is_unparseable"], unfinished, answered)
        return pc.if_else(t["is_error"], pa.nulls(len(t), pa.string()), text)


def shard_table(con, rows: str, texts: Texts) -> pa.Table:
    t = con.execute(ROWS_SQL.format(rows=rows, **constants())).to_arrow_table()
    t = t.append_column("prompt", texts.prompts(t)).append_column("response_text", texts.responses(t))
    return t


def write_shards(con, folder: Path, batches: list[str], tag: str) -> int:
    texts, written = Texts(), 0
    for n, rows in enumerate(tqdm(batches, desc=tag, unit="shard", file=sys.stderr)):
        t = shard_table(con, rows, texts)
        for source in ("collector", "toolproj"):
            part = t.filter(pc.equal(t["source"], source))
            if len(part) == 0:
                continue
            schema = (
                RESPONSE_SCHEMA if source == "collector" else pa.schema([RESPONSE_SCHEMA.field(c) for c in REQUIRED])
            )
            part = pa.table({f.name: column(part, f) for f in schema}, schema=schema)
            target = folder / f"source={source}" / f"run_id={tag}" / f"part-{n:06d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, target, compression="zstd")
            written += len(part)
    return written


def column(table: pa.Table, field: pa.Field) -> pa.Array:
    """The generated column cast to the shard schema; a column the generator does not make is null."""
    if field.name in table.column_names:
        return table[field.name].cast(field.type)
    return pa.nulls(len(table), field.type)


def chunks(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, hi)) for a in range(lo, hi, size)]


def write(out: Path, responses: int, shard_rows: int, append_pct: float, threads: int, memory: str) -> dict:
    con = duckdb.connect()
    con.execute(f"set threads = {threads}; set memory_limit = '{memory}'")
    problems = max(1, round(responses / 1.01 / PER_PROBLEM))
    base = problems * PER_PROBLEM
    raw = out / "raw"
    (raw / "problems").mkdir(parents=True, exist_ok=True)
    if not append_pct:
        con.execute(
            f"copy ({problems_sql(0, problems)}) to '{raw / 'problems' / 'problems-0.parquet'}' (format parquet)"
        )
        batches = [base_rows(a, b) for a, b in chunks(0, base, shard_rows)]
        batches += [retry_rows(a, b) for a, b in chunks(0, base // 100, shard_rows)]
        return {"rows": write_shards(con, raw / "responses", batches, "bench-0"), "problems": problems}
    more = max(1, round(problems * append_pct / 100))
    tag = f"bench-append-{append_pct:g}"
    con.execute(
        f"copy ({problems_sql(problems, problems + more)}) to '{raw / 'problems' / (tag + '.parquet')}' (format parquet)"
    )
    batches = [base_rows(a, b) for a, b in chunks(base, base + more * PER_PROBLEM, shard_rows)]
    batches.append(late_retry_rows(base))
    return {"rows": write_shards(con, raw / "responses", batches, tag), "problems": more}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, required=True, help="responses in the full collection")
    ap.add_argument("--out", type=Path, required=True, help="data folder to write (holds raw/)")
    ap.add_argument("--shard-rows", type=int, default=10000, help="rows per shard (the collector writes 200)")
    ap.add_argument("--append", type=float, default=0, help="write this percentage of new responses instead")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", default="2GB")
    args = ap.parse_args()
    start = time.perf_counter()
    info = write(args.out, args.responses, args.shard_rows, args.append, args.threads, args.memory_limit)
    print(
        f"wrote {info['rows']} responses ({info['problems']} problems) to {args.out} in {time.perf_counter() - start:.1f}s"
    )


if __name__ == "__main__":
    main()
