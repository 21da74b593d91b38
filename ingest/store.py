"""What is already stored under `data/raw/`, read with DuckDB straight from the shards."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa


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


def load_state(responses: Path) -> StoredState:
    state = StoredState()
    if not has_shards(responses):
        return state
    glob = str(responses / "**" / "*.parquet")
    con = duckdb.connect()
    rows = con.execute(
        """
        select response_id, bool_or(error is null) as ok,
               max(case when arm = 'sim' and error is null then response_text end) as sim_text
        from read_parquet(?, union_by_name = true, hive_partitioning = false)
        where source = 'collector'
        group by response_id
        """,
        [glob],
    ).fetchall()
    con.close()
    for rid, ok, sim_text in rows:
        (state.ok if ok else state.failed).add(rid)
        if sim_text is not None:
            state.sim[rid] = sim_text
    return state
