"""What is already stored under `data/raw/`, read with DuckDB straight from the shards.

With shards on object storage (`EVALHOUSE_DATA=s3://…`) the responses location is the bucket's
`raw/responses` URI: the needed columns of the collector's shards are read with pyarrow and handed to
DuckDB as a table (DuckDB's own httpfs extension cannot be installed offline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from .shards import RESPONSE_SCHEMA

# What to run when a shard cannot be read; every reader that stops on one says so.
REPAIR_HINT = "run `evalhouse repair` to set unreadable shards aside"


class UnreadableStore(Exception):
    """The stored responses cannot be read (a shard under data/raw that is not readable Parquet)."""

    def __init__(self, where: Path | str, reason: str):
        super().__init__(f"cannot read the stored responses under {where}: {reason}; {REPAIR_HINT}")
        self.where, self.reason = where, reason


def unreadable(where: Path | str, exc: BaseException) -> UnreadableStore:
    return UnreadableStore(where, str(exc).splitlines()[0])


def problems_schema() -> pa.Schema:
    return pa.schema(
        [
            ("problem_id", pa.string()),
            ("kind", pa.string()),
            ("digit", pa.int32()),
            ("index", pa.int32()),
            ("question", pa.string()),
            ("gold_answer", pa.string()),
            ("instance_json", pa.string()),
            ("problem_seed", pa.int32()),
            ("generator_version", pa.string()),
        ]
    )


def has_shards(folder: Path) -> bool:
    return folder.exists() and any(folder.rglob("*.parquet"))


@dataclass
class StoredState:
    """Stored collector responses: which ids succeeded, which failed, and the sim answers' text."""

    ok: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    sim: dict[str, str] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> StoredState:
        return cls()

    def has(self, response_id: str, retry_errors: bool) -> bool:
        """Stored already: a success always; an error row unless errors are to be re-asked."""
        if response_id in self.ok:
            return True
        return response_id in self.failed and not retry_errors

    def sim_text(self, response_id: str) -> str | None:
        return self.sim.get(response_id)


def _stored(con: duckdb.DuckDBPyConnection, responses: Path | str, columns: list[str]) -> str | None:
    """The stored responses as a relation of `con` (None when there are none): local shards or the bucket's."""
    if isinstance(responses, str):
        from evalhouse.storage import read_columns

        # the collector writes under source=collector only; imported shards need not be read
        table = read_columns(f"{responses}/source=collector", RESPONSE_SCHEMA, columns)
        if not table.num_rows:
            return None
        con.register("stored_shards", table)
        return "stored_shards"
    if not has_shards(responses):
        return None
    glob = str(responses / "**" / "*.parquet").replace("'", "''")
    return f"read_parquet('{glob}', union_by_name = true, hive_partitioning = false)"


def _fetch(con: duckdb.DuckDBPyConnection, responses: Path | str, sql: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise unreadable(responses, exc) from None


def load_state(responses: Path | str) -> StoredState:
    """What is stored; raises UnreadableStore, naming the shard, when one cannot be read."""
    state = StoredState()
    con = duckdb.connect()
    try:
        relation = _stored(con, responses, ["response_id", "source", "arm", "error", "response_text"])
        if relation is None:
            return state
        rows = _fetch(
            con,
            responses,
            f"""
            select response_id, bool_or(error is null) as ok,
                   max(case when arm = 'sim' and error is null then response_text end) as sim_text
            from {relation}
            where source = 'collector'
            group by response_id
            """,
        )
    finally:
        con.close()
    for rid, ok, sim_text in rows:
        (state.ok if ok else state.failed).add(rid)
        if sim_text is not None:
            state.sim[rid] = sim_text
    return state


@dataclass(frozen=True)
class StoredUsage:
    """What the stored collector responses of one (model, arm) used, within a plan's response ids."""

    answered: int = 0  # successes with a completion token count
    completion_tokens: int = 0  # over those successes
    prompt_tokens: int = 0  # over rows with a prompt token count
    prompt_chars: int = 0  # the characters of those rows' prompts: tokens per character, measured
    reported_cost: float = 0.0  # the provider's `cost`, where it sent one
    unpriced_prompt_tokens: int = 0  # tokens of rows without a reported cost, to be priced here
    unpriced_completion_tokens: int = 0

    @property
    def mean_completion_tokens(self) -> float | None:
        return self.completion_tokens / self.answered if self.answered else None

    @property
    def tokens_per_char(self) -> float | None:
        return self.prompt_tokens / self.prompt_chars if self.prompt_chars and self.prompt_tokens else None


def stored_usage(responses: Path | str, response_ids: list[str]) -> dict[tuple[str, str], StoredUsage]:
    """Token counts and cost of the stored collector rows among `response_ids`, per (model, arm).

    Every stored row counts, error rows and superseded ones too: what was paid for stays paid for.
    """
    if not response_ids:
        return {}
    wanted = pa.table({"response_id": pa.array(response_ids, pa.string())})
    con = duckdb.connect()
    try:
        relation = _stored(
            con,
            responses,
            ["response_id", "source", "model", "arm", "error", "prompt", "prompt_tokens", "completion_tokens", "cost"],
        )
        if relation is None:
            return {}
        con.register("wanted", wanted)
        rows = _fetch(
            con,
            responses,
            f"""
            with stored as (
                select r.* from {relation} r
                semi join wanted using (response_id)
                where r.source = 'collector'
            )
            select model, arm,
                   count(*) filter (where error is null and completion_tokens is not null),
                   coalesce(sum(completion_tokens) filter (where error is null), 0),
                   coalesce(sum(prompt_tokens), 0),
                   coalesce(sum(length(prompt)) filter (where prompt_tokens is not null), 0),
                   coalesce(sum(cost), 0),
                   coalesce(sum(prompt_tokens) filter (where cost is null), 0),
                   coalesce(sum(completion_tokens) filter (where cost is null), 0)
            from stored group by model, arm
            """,
        )
    finally:
        con.close()
    return {
        (model, arm): StoredUsage(*map(int, figures[:4]), float(figures[4]), *map(int, figures[5:]))
        for model, arm, *figures in rows
    }
