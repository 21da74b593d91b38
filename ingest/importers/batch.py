"""One batch of legacy files through DuckDB: records → checks → identity → answers → shards.

A batch goes through a fixed number of statements whatever its number of files: records are
checked (bad ones go to the quarantine with file, line and reason), given their instance and run
identity, expanded into one response per arm that ran, and their answers read. Python only handles
what is per distinct value (model names, answers, problems) and the few replies DuckDB cannot settle.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evalhouse.config import Paths
from evalhouse.ingest.harness.detect import SOURCE as HARNESS_SOURCE
from evalhouse.registry import resolve
from evalhouse.vocabulary import ARM_CODES as ARMS
from evalhouse.vocabulary import response_id_sql

from . import answers, jsonl_fast, res_csv, res_jsonl, run_csv
from .detect import RES_CSV, RES_JSONL, RUN_CSV
from .lines import Lines, show, split_lines
from .output import BatchWriter, Origin, quarantine_shard, recorded_origin, response_write_options, run_shard
from .records import RECORD_SCHEMA, REPLY, REPR
from .regrade import NAMESPACE, SOURCE_VERDICT_ONLY, problem_id_sql, problems_table
from .schemas import COUNTS, EXEC_STATUS, IMPORT_RESPONSE_SCHEMA, IMPORTER_VERSION, MANIFEST_SCHEMA, QUARANTINE_SCHEMA
from .summary import KEPT, FileResult, ImportSummary

IMPORTER = {RES_JSONL: res_jsonl.NAME, RES_CSV: res_csv.NAME, RUN_CSV: run_csv.NAME, **HARNESS_SOURCE}
RUN_FOLDER = re.compile(r"^run_\d{8}_\d{6}$")
# Responses are stored by run, and within a run by problem and arm. Sorted by Arrow rather than in
# the SQL, so that only the sort keys are sorted, not every column with them.
RESPONSE_ORDER = [(key, "ascending") for key in ("source", "run_id", "model", "seed", "file_idx", "problem_id", "arm")]


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str
    size: int
    origin: Origin

    @property
    def importer(self) -> str:
        return IMPORTER[self.format]


def prepare(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The session settings and macros the batch SQL uses (a cursor needs its own)."""
    con.execute("set enable_progress_bar = false")
    con.execute(f"create or replace temp macro legacy_exec_status(status) as ({EXEC_STATUS})")
    con.execute(
        "create or replace temp macro legacy_bool(x) as (case lower(trim(x)) "
        "when 'true' then true when '1' then true when '1.0' then true "
        "when 'false' then false when '0' then false when '0.0' then false end)"
    )
    return con


class Publishing:
    """What batches share while they publish, one at a time: a lock, and which file each run was
    loaded from earlier in this import (so a newer copy that lands later can take that file's rows
    back out of its `loaded` count)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[tuple, tuple[FileResult, str, int, int, int]] = {}  # run -> result, shard, counts

    def __enter__(self) -> Publishing:
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def replaced(self, run: tuple, by: str) -> None:
        """The run loaded earlier in this import from another file is replaced by a newer copy."""
        earlier = self.runs.pop(run, None)
        if earlier is None:
            return
        result, shard, rows, responses, never = earlier
        result.rows_loaded -= rows
        result.rows_superseded += rows
        result.responses -= responses
        result.arms_never_ran -= never
        result.runs.remove(shard)
        result.superseded_by.append(by)


class Batch:
    """One batch of files through DuckDB: records → checks → identity → responses → shards.

    The records' text (prompts and replies, nearly all the bytes) stays in the Arrow table the
    readers produced: DuckDB scans it in place, every intermediate table is narrow and keyed by the
    record's `rid`, and the responses' text is gathered from it by Arrow in one `take`.

    Batches run two at a time. Everything up to written (not yet visible) shard files happens in
    parallel; deciding which copy of a run is the newest and making shards visible happens under
    `publishing`, one batch at a time, so two batches holding copies of one run cannot race.
    """

    def __init__(
        self,
        con,
        data: Paths,
        files: list[SourceFile],
        override: str | None,
        summary: ImportSummary,
        publishing: Publishing,
    ):
        self.con, self.data, self.files, self.override, self.summary = con, data, files, override, summary
        self.publishing = publishing
        self.lines: dict[int, Lines] = {}
        self.counts = {idx: dict.fromkeys(COUNTS, 0) for idx in range(len(files))}
        self.quarantined: dict[int, list[dict]] = {}
        self.unknown_models: Counter = Counter()
        self.problem_counts = (0, 0)

    def run(self) -> list[FileResult]:
        writer = BatchWriter()
        try:
            self._load_records()
            self._check()
            self._identify()
            self._read_answers()
            self._problems(writer)
            staged = self._stage_responses(writer)
            writer.prepare()
            with self.publishing:
                winners = self._choose_copies()
                results = self._publish(writer, winners, staged)
        except BaseException:
            writer.abort()
            raise
        finally:
            for name in ("checks", "identity", "answers", "batch_problems", "files", "run_counts"):
                self.con.execute(f"drop table if exists {name}")
            self.con.unregister("records")
        return results

    # -- reading ------------------------------------------------------------------------------
    def _load_records(self) -> None:
        """All records of the batch as one Arrow table, seen by DuckDB as `records`: res.jsonl through
        DuckDB's reader where it can, then line by line; CSV records as Arrow columns. A record's
        `rid` is its position in that table."""
        con = self.con
        sniffed = [jsonl_fast.sniff(idx, f.path) for idx, f in enumerate(self.files) if f.format == RES_JSONL]
        fast, by_line = jsonl_fast.load(con, sniffed)
        parts = [fast]
        if by_line:
            for idx in sorted(set(by_line)):
                self.lines[idx] = split_lines(self.files[idx].path)
            parts.append(res_jsonl.load(con, [(idx, self.lines[idx]) for idx in sorted(set(by_line))]))
        for idx, file in enumerate(self.files):
            if file.format == RES_CSV:
                parts.append(res_csv.read(file.path, idx)[0])
            elif file.format == RUN_CSV:
                parts.append(run_csv.read(file.path, idx, self.override)[0])
        records = pa.concat_tables([p.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA) for p in parts])
        self.records = records.append_column("rid", pa.array(np.arange(records.num_rows, dtype=np.int64)))
        con.register("records", self.records)
        con.register("batch_files", self._files_table())
        con.execute("create or replace temp table files as select * from batch_files")
        con.unregister("batch_files")

    def _files_table(self) -> pa.Table:
        rows = []
        for idx, file in enumerate(self.files):
            folder_run = next((p for p in reversed(Path(file.origin.file).parts[:-1]) if RUN_FOLDER.match(p)), None)
            rows.append(
                {
                    "file_idx": idx,
                    "importer": file.importer,
                    "namespace": NAMESPACE[file.importer],
                    "path": file.origin.file,
                    "folder_run": folder_run or f"file-{file.origin.key}",
                }
            )
        return pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("file_idx", pa.int32()),
                    ("importer", pa.string()),
                    ("namespace", pa.string()),
                    ("path", pa.string()),
                    ("folder_run", pa.string()),
                ]
            ),
        )

    def _raw_line(self, idx: int, line: int) -> str:
        if idx not in self.lines:
            self.lines[idx] = split_lines(self.files[idx].path)
        return show(self.lines[idx].raw_line(line))

    # -- checking -----------------------------------------------------------------------------
    def _check(self) -> None:
        """Each record's reason to be quarantined, or null; and its position among its kind's records.

        The position is the instance index for files that do not record one (res.csv): records of a
        kind ordered by digit, then as they appear. Quarantined records keep their place in it.
        """
        checks = [
            "case when coalesce(trim(model), '') = '' then 'empty model' end",
            "case when coalesce(trim(kind), '') = '' then 'empty kind' end",
            _integer_check("digit"),
            _integer_check("seed"),
            f"case when nullif(trim(index_in_kind), '') is not null then {_integer_check('index_in_kind')} end",
        ]
        for arm in ARMS:
            checks.append(
                f"case when coalesce({arm}_status, '') <> '' and legacy_bool({arm}_correct) is null then "
                f"'{arm} verdict ' || coalesce('''' || {arm}_correct || '''', 'missing') || ' is not a boolean' end"
            )
        reason = f"coalesce(defect, nullif(concat_ws('; ', {', '.join(checks)}), ''))"
        con = self.con
        con.execute(f"""
            create or replace temp table checks as
            select rid, file_idx, line, {reason} as reason,
                   row_number() over (
                       partition by file_idx, trim(kind)
                       order by try_cast(trim(digit) as bigint) nulls last, try_cast(source_row as bigint), line
                   ) as position_in_kind
            from records
        """)
        for idx, n_read, n_quarantined in con.execute(
            "select file_idx, count(*), count(reason) from checks group by all"
        ).fetchall():
            self.counts[idx].update(rows_read=n_read, rows_quarantined=n_quarantined)
        rows = con.execute("""
            select c.file_idx, c.line, c.reason, r.raw
            from checks as c join records as r on r.rid = c.rid
            where c.reason is not null order by all
        """).fetchall()
        for idx, line, reason, raw in rows:
            raw = raw if raw is not None else self._raw_line(idx, line)
            self.quarantined.setdefault(idx, []).append({"line": line, "reason": reason, "raw": raw})

    # -- identity -----------------------------------------------------------------------------
    def _identify(self) -> None:
        """For each record that passed: model id, typed seed and digit, run, instance and problem id."""
        con = self.con
        given = [
            r[0]
            for r in con.execute("""
            select distinct trim(r.model) from records as r join checks as c on r.rid = c.rid
            where c.reason is null
        """).fetchall()
        ]
        models = []
        for name in given:
            resolved = resolve(name)
            if resolved is None:
                self.unknown_models[name] += 1
            models.append({"model_given": name, "model_id": resolved or name})
        con.register(
            "model_map",
            pa.Table.from_pylist(models, schema=pa.schema([("model_given", pa.string()), ("model_id", pa.string())])),
        )
        con.execute(f"""
            create or replace temp table identity as
            with typed as (
                select c.rid, r.file_idx, r.line, f.importer, f.namespace, f.path,
                    m.model_id, m.model_given,
                    cast(trim(r.seed) as integer) as seed_i,
                    cast(trim(r.digit) as integer) as digit_i,
                    trim(r.kind) as kind_t,
                    coalesce(nullif(trim(r.run_id), ''), f.folder_run) as run,
                    coalesce(try_cast(nullif(trim(r.index_in_kind), '') as integer), c.position_in_kind::integer) as idx
                from records as r
                join checks as c on r.rid = c.rid
                join files as f on f.file_idx = r.file_idx
                join model_map as m on m.model_given = trim(r.model)
                where c.reason is null
            )
            select *, {problem_id_sql("namespace", "kind_t", "digit_i", "idx")} as problem_id,
                try_strptime(regexp_extract(run, '(\\d{{8}}_\\d{{6}})', 1), '%Y%m%d_%H%M%S') as created_at
            from typed
        """)
        con.unregister("model_map")

    def _choose_copies(self) -> pa.Table:
        """Which file each run is loaded from: the newest copy among this batch and what is stored."""
        groups = self.con.execute(
            "select importer, run, model_id, seed_i, file_idx, count(*) from identity group by all order by all"
        ).fetchall()
        by_run: dict[tuple, list[tuple[int, int]]] = {}
        for importer, run, model, seed, idx, n in groups:
            by_run.setdefault((importer, run, model, seed), []).append((idx, n))
        rows = []
        for (importer, run, model, seed), members in by_run.items():
            best = max(members, key=lambda m: (self.files[m[0]].origin.mtime_ns, self.files[m[0]].origin.file))[0]
            stored = recorded_origin(run_shard(self.data, importer, run, model, seed))
            origin = self.files[best].origin
            keep = stored is None or stored.file == origin.file or origin.newer_than(stored)
            for idx, n in members:
                loaded = keep and idx == best
                self.counts[idx]["rows_loaded" if loaded else "rows_superseded"] += n
                rows.append(
                    {
                        "importer": importer,
                        "run": run,
                        "model_id": model,
                        "seed_i": seed,
                        "file_idx": idx,
                        "loaded": loaded,
                        "newer": None if loaded else (origin.file if keep else stored.file),
                    }
                )
        return pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("importer", pa.string()),
                    ("run", pa.string()),
                    ("model_id", pa.string()),
                    ("seed_i", pa.int32()),
                    ("file_idx", pa.int32()),
                    ("loaded", pa.bool_()),
                    ("newer", pa.string()),
                ]
            ),
        )

    # -- answers ------------------------------------------------------------------------------
    @staticmethod
    def _arm_rows(arm: str, columns: str, mode: str | None = None) -> str:
        """Rows of one arm that ran (aid = rid·4 + arm number). Quarantined records are not left out:
        testing for them costs more than reading their few answers, which no response joins."""
        where = f"coalesce(r.{arm}_status, '') <> ''" + (f" and r.{arm}_mode = '{mode}'" if mode else "")
        return f"""
            select r.rid * 4 + {ARMS.index(arm)} as aid, {columns}
            from records as r
            where {where}
        """

    def _read_answers(self) -> None:
        """`answers`: for every response (aid), its parsed answer, raw answer, parse error and the
        version of the reader that read it (evalhouse.ingest.answers, as the collector reads its own).

        An execution that failed has no answer to read: its parse error says how it ended (a reply's status
        is the legacy pipeline's message, not an execution's)."""
        con = self.con
        arms = " union all ".join(
            self._arm_rows(
                arm,
                f"""trim(r.kind) as kind, r.{arm}_mode as mode, r.{arm}_text as text,
                case when r.{arm}_mode <> '{REPLY}' then legacy_exec_status(r.{arm}_status) end as exec_status""",
            )
            for arm in ARMS
        )
        con.execute(f"create or replace temp table arm_texts as {arms}")
        readable = con.execute(
            "select aid, kind, mode, text from arm_texts where coalesce(exec_status, 'ok') = 'ok'"
        ).fetchall()
        con.register("read_answers", answers.read_answers(readable))
        con.execute(f"""
            create or replace temp table answers as
            select t.aid, a.parsed_answer, a.raw_answer,
                case when t.exec_status = 'no_code' then 'no_code'
                     when t.exec_status = 'unreadable' then 'unreadable_answer'
                     when coalesce(t.exec_status, 'ok') <> 'ok' then 'exec_failed'
                     when t.text is null and t.mode = '{REPR}' then 'no_output'
                     else a.parse_error end as parse_error,
                a.extractor_version
            from arm_texts as t
            left join read_answers as a on a.aid = t.aid
        """)
        con.execute("drop table arm_texts")
        con.unregister("read_answers")

    def _problems(self, writer: BatchWriter) -> None:
        rows = self.con.execute("""
            select l.problem_id, l.kind_t, l.digit_i, l.idx, any_value(nullif(r.question, '')), any_value(l.namespace)
            from identity as l join records as r on r.rid = l.rid
            group by l.problem_id, l.kind_t, l.digit_i, l.idx order by l.problem_id
        """).fetchall()
        table = problems_table(rows)
        self.problem_counts = (table.num_rows, table.num_rows - table.column("gold_answer").null_count)
        self.con.register("problems_arrow", table)
        self.con.execute("create or replace temp table batch_problems as select * from problems_arrow")
        self.con.unregister("problems_arrow")
        if table.num_rows:
            digest = hashlib.sha256()
            for name in ("problem_id", "gold_answer", "question"):
                for buffer in table.column(name).combine_chunks().buffers():
                    digest.update(b"" if buffer is None else buffer)
            digest = digest.hexdigest()[:16]
            target = self.data.problems / "source=legacy" / f"legacy-{digest}.parquet"
            if not target.exists():
                writer.add(target, table)

    # -- writing ------------------------------------------------------------------------------
    def _stage_responses(self, writer: BatchWriter) -> dict[tuple, int]:
        """One shard per run and file, cut from one sorted Arrow table and queued on the writer.

        Returns the writer's ticket of each (importer, run, model, seed, file_idx); if a batch holds
        two copies of a run, both are staged and `_publish` keeps the newer. Also counts, per run and
        file, the responses and the arms that never ran (table `run_counts`).
        """
        ran = " + ".join(f"(coalesce(r.{arm}_status, '') <> '')::int" for arm in ARMS)
        never = " + ".join(f"(r.{arm}_mode is not null and coalesce(r.{arm}_status, '') = '')::int" for arm in ARMS)
        self.con.execute(f"""
            create or replace temp table run_counts as
            select l.importer, l.run, l.model_id, l.seed_i, l.file_idx,
                   count(*) as n_rows, sum({ran}) as n_responses, sum({never}) as n_never
            from identity as l join records as r on r.rid = l.rid
            group by all
        """)
        responses = self.con.execute(self._responses_sql()).to_arrow_table()
        responses = self._with_text(responses.take(pc.sort_indices(responses, sort_keys=RESPONSE_ORDER)))
        responses = responses.select(IMPORT_RESPONSE_SCHEMA.names).cast(IMPORT_RESPONSE_SCHEMA)
        options = response_write_options(IMPORT_RESPONSE_SCHEMA)
        tickets: dict[tuple, int] = {}
        offset = 0
        runs = self.con.execute(
            "select importer, run, model_id, seed_i, file_idx, n_responses from run_counts where n_responses > 0"
        ).fetchall()
        for importer, run, model, seed, idx, n in sorted(runs):  # the order of RESPONSE_ORDER's first five keys
            shard = run_shard(self.data, importer, run, model, seed)
            tickets[(importer, run, model, seed, idx)] = writer.add(
                shard, responses.slice(offset, n), self.files[idx].origin, options
            )
            offset += n
        assert offset == responses.num_rows
        for idx, file in enumerate(self.files):
            rows = self.quarantined.get(idx, [])
            shard = quarantine_shard(self.data, file.importer, file.origin.key)
            if rows:
                now = datetime.now(timezone.utc)
                for row in rows:
                    row.update(file=file.origin.file, importer=file.importer, quarantined_at=now)
                writer.add(shard, pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA))
            else:
                writer.remove(shard)
        return tickets

    def _with_text(self, responses: pa.Table) -> pa.Table:
        """Add prompt and response_text, gathered from the records: row `rid` of arm number `k` is
        element k·n + rid of the four arms' columns laid end to end."""
        n = self.records.num_rows
        index = pc.add(pc.multiply(responses.column("arm_no"), n), responses.column("rid"))
        for column, field in (("prompt", "prompt"), ("response_text", "text")):
            stacked = pa.chunked_array(
                [chunk for arm in ARMS for chunk in self.records.column(f"{arm}_{field}").chunks], pa.string()
            )
            responses = responses.append_column(column, stacked.take(index))
        return responses

    def _responses_sql(self) -> str:
        """The responses' narrow columns (their text is added by `_with_text`), in no order.

        The arms that ran are first laid out one per row (a narrow union); every column is then
        computed once over them, which keeps the statement small to plan."""
        ran = " union all ".join(
            f"""
            select rid, {n}::bigint as arm_no, '{arm}' as arm, {arm}_status as status, {arm}_correct as correct,
                   {arm}_parse_err as parse_err
            from records where coalesce({arm}_status, '') <> ''"""
            for n, arm in enumerate(ARMS)
        )
        code = ARMS.index("code")
        exec_status = f"case when a.arm_no = {code} then legacy_exec_status(a.status) end"
        return f"""
            with ran as ({ran})
            select
                {response_id_sql("l.model_id", "l.problem_id", "a.arm", "l.seed_i")} as response_id,
                l.run as run_id, l.importer as source, l.model_id as model, l.problem_id,
                l.kind_t as kind, l.digit_i as digit, a.arm, l.seed_i as seed,
                l.rid, a.arm_no, nullif(r.gold, '') as gold_answer,
                legacy_bool(a.correct) as reported_correct, null as error,
                case when a.arm_no = {code} then try_cast(r.code_latency_ms as double) end as latency_ms,
                null as prompt_tokens, null as completion_tokens, 0 as sample,
                l.created_at,
                l.importer as prompt_version,
                x.parsed_answer, x.parse_error, x.extractor_version,
                case when pr.gold_answer is null then case when legacy_bool(a.correct) then 'correct' else 'wrong' end
                     when x.parsed_answer is null then 'parse_error'
                     when x.parsed_answer = pr.gold_answer then 'correct'
                     else 'wrong' end as verdict,
                case when pr.gold_answer is null then '{SOURCE_VERDICT_ONLY}'
                     when x.parsed_answer is null then x.parse_error
                     when x.parsed_answer = pr.gold_answer then 'ok'
                     else 'wrong_value' end as verdict_reason,
                {exec_status} as exec_status,
                case when a.arm_no = {code} then try_cast(r.code_exit_code as integer) end as exec_exit_code,
                case when a.arm_no = {code} then coalesce(r.code_stderr, case when {exec_status} = 'error'
                    then regexp_extract(a.status, '^[^,]*,(.*)$', 1) end) end as exec_stderr,
                l.model_given as model_as_given, l.idx as index_in_kind, x.raw_answer, l.file_idx,
                l.path as source_file, l.line as source_line, r.source_row, nullif(r.request_id, '') as source_request_id,
                a.status as source_status, legacy_bool(a.parse_err) as source_parse_failed
            from ran as a
            join identity as l on l.rid = a.rid
            join records as r on r.rid = a.rid
            join answers as x on x.aid = a.rid * 4 + a.arm_no
            left join batch_problems as pr on pr.problem_id = l.problem_id
        """

    def _publish(self, writer: BatchWriter, winners: pa.Table, tickets: dict[tuple, int]) -> list[FileResult]:
        """Under the publishing lock: make the newest copy of each run visible, record every file's
        outcome (manifest, summary) and return the per-file results."""
        runs: dict[int, list[str]] = {}
        newer: dict[int, list[str]] = {}
        discard = set()
        for row in winners.to_pylist():
            key = (row["importer"], row["run"], row["model_id"], row["seed_i"], row["file_idx"])
            if row["loaded"]:
                self.publishing.replaced(key[:4], by=self.files[row["file_idx"]].origin.file)
                if key in tickets:
                    runs.setdefault(row["file_idx"], []).append(str(run_shard(self.data, *key[:4])))
            else:
                newer.setdefault(row["file_idx"], []).append(row["newer"])
                if key in tickets:
                    discard.add(tickets[key])
        self.con.register("loaded_runs", winners)
        loaded_runs = self.con.execute("""
            select c.importer, c.run, c.model_id, c.seed_i, c.file_idx, c.n_rows, c.n_responses, c.n_never
            from run_counts as c join loaded_runs as w using (importer, run, model_id, seed_i, file_idx)
            where w.loaded
        """).fetchall()
        self.con.unregister("loaded_runs")
        for *_, idx, _, n_responses, n_never in loaded_runs:
            self.counts[idx]["responses"] += int(n_responses)
            self.counts[idx]["arms_never_ran"] += int(n_never)
        self.summary.unknown_models.update(self.unknown_models)
        self.summary.problems += self.problem_counts[0]
        self.summary.regraded_problems += self.problem_counts[1]
        now = datetime.now(timezone.utc)
        results, manifest = [], []
        for idx, file in enumerate(self.files):
            result = FileResult(
                file.path, file.importer, **self.counts[idx], runs=runs.get(idx, []), superseded_by=newer.get(idx, [])
            )
            for row in self.quarantined.get(idx, []):
                self.summary.quarantine_reasons[_reason_class(row["reason"])] += 1
                if len(self.summary.quarantined) < KEPT:
                    self.summary.quarantined.append((file.path, row["line"], row["reason"]))
            manifest.append(self._manifest(file, result, now))
            results.append(result)
        for importer, run, model, seed, idx, n_rows, n_responses, n_never in loaded_runs:
            shard = str(run_shard(self.data, importer, run, model, seed))
            if shard in results[idx].runs:
                self.publishing.runs[(importer, run, model, seed)] = (
                    results[idx],
                    shard,
                    int(n_rows),
                    int(n_responses),
                    int(n_never),
                )
        # One manifest shard per batch: the latest row of a file is its state (see `_imported`).
        name = hashlib.sha256("|".join(m["file"] for m in manifest).encode() + now.isoformat().encode()).hexdigest()
        writer.add(
            self.data.imports / f"import-{now:%Y%m%dT%H%M%S}-{name[:12]}.parquet",
            pa.Table.from_pylist(manifest, schema=MANIFEST_SCHEMA),
        )
        writer.publish(discard)
        return results

    def _manifest(self, file: SourceFile, result: FileResult, now: datetime) -> dict:
        return {
            "file": file.origin.file,
            "importer": file.importer,
            "importer_version": IMPORTER_VERSION,
            "model_override": self.override if file.format == RUN_CSV else None,
            "size": file.origin.size,
            "mtime_ns": file.origin.mtime_ns,
            **{name: getattr(result, name) for name in COUNTS},
            "runs": result.runs,
            "imported_at": now,
        }


def _integer_check(column: str) -> str:
    return (
        # `integer`, as the columns are typed below: a value beyond 32 bits is quarantined, not a failed import
        f"case when try_cast(trim({column}) as integer) is null then "
        f"'{column} ' || coalesce('''' || {column} || '''', 'missing') || ' is not an integer' end"
    )


def _reason_class(reason: str) -> str:
    """The kind of a quarantine reason, for the summary (`wrong column count: expected 32…` -> `wrong column count`)."""
    return reason.split(":")[0].split(" (")[0].split(";")[0]
