"""Importing legacy result files: find them, read a batch, check it, turn it into responses, write.

Files are taken in batches of a bounded size. A batch goes through DuckDB in a fixed number of
statements whatever its number of files: records are checked (bad ones go to the quarantine with
file, line and reason), given their instance and run identity, expanded into one response per arm
that ran, and their answers read. Python only handles what is per distinct value (model names,
answers, problems) and the few replies DuckDB cannot settle. Each batch ends with its shards
committed, so an interrupted import loses at most the batch in progress and resumes by re-running.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from evalhouse.config import Paths
from evalhouse.ingest.collector import response_id
from evalhouse.ingest.shards import RESPONSE_SCHEMA, clean_leftovers
from evalhouse.registry import resolve

from . import answers, res_csv, res_jsonl, run_csv
from .detect import RES_CSV, RES_JSONL, RUN_CSV, Detected, discover
from .lines import Lines, show, split_lines
from .output import BatchWriter, Origin, file_key, manifest_shard, quarantine_shard, recorded_origin, run_shard
from .records import ARMS, RECORD_SCHEMA
from .regrade import NAMESPACE, SOURCE_VERDICT_ONLY, problem_id_sql, problems_table
from .summary import FileResult, ImportSummary

# Bump when the same file would now import differently, so unchanged files are imported again.
IMPORTER_VERSION = "1"
BATCH_BYTES = 64 << 20
IMPORTER = {RES_JSONL: res_jsonl.NAME, RES_CSV: res_csv.NAME, RUN_CSV: run_csv.NAME}
RUN_FOLDER = re.compile(r"^run_\d{8}_\d{6}$")

IMPORT_COLUMNS = [
    ("model_as_given", pa.string()),
    ("index_in_kind", pa.int32()),
    ("raw_answer", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
    ("source_row", pa.string()),
    ("source_request_id", pa.string()),
    ("source_status", pa.string()),
    ("source_parse_failed", pa.bool_()),
]
IMPORT_RESPONSE_SCHEMA = pa.schema(list(RESPONSE_SCHEMA) + [pa.field(n, t) for n, t in IMPORT_COLUMNS])
QUARANTINE_SCHEMA = pa.schema(
    [("file", pa.string()), ("line", pa.int64()), ("reason", pa.string()), ("raw", pa.string()),
     ("importer", pa.string()), ("quarantined_at", pa.timestamp("us", tz="UTC"))]
)
MANIFEST_SCHEMA = pa.schema(
    [("file", pa.string()), ("importer", pa.string()), ("importer_version", pa.string()), ("model_override", pa.string()),
     ("size", pa.int64()), ("mtime_ns", pa.int64()), ("rows_read", pa.int64()), ("rows_loaded", pa.int64()),
     ("rows_quarantined", pa.int64()), ("rows_superseded", pa.int64()), ("responses", pa.int64()),
     ("arms_never_ran", pa.int64()), ("runs", pa.list_(pa.string())), ("imported_at", pa.timestamp("us", tz="UTC"))]
)


class LegacyImportError(Exception):
    """A user's mistake in what to import (reported as one `Error:` line)."""


@dataclass(frozen=True)
class Options:
    model: str | None = None  # --model, for files that record none
    progress: bool = True
    batch_bytes: int = BATCH_BYTES
    memory_limit: str = "2GB"
    threads: int | None = None


def import_paths(paths: Iterable[Path], data: Paths, options: Options = Options()) -> ImportSummary:
    """Import every legacy result file under `paths`; returns what happened, in counts that reconcile."""
    _check_response_id()
    start = time.perf_counter()
    summary = ImportSummary()
    override = _resolve_override(options.model, summary)
    clean_leftovers(data.raw)
    todo = list(_plan(paths, data, override, summary))
    with _connection(options) as con, tqdm(
        total=sum(d.path.stat().st_size for d in todo), unit="B", unit_scale=True, unit_divisor=1024,
        disable=not options.progress, dynamic_ncols=True, desc="import",
    ) as bar:
        for batch in _batches(todo, options.batch_bytes):
            results = _Batch(con, data, batch, override, summary).run()
            summary.files += results
            bar.update(sum(r.size for r in batch))
            bar.set_postfix(rows=summary.total("rows_read"), responses=summary.total("responses"), refresh=False)
    summary.bytes_read = sum(d.path.stat().st_size for d in todo)
    summary.elapsed_s = time.perf_counter() - start
    return summary


def _check_response_id() -> None:
    """The SQL below builds response ids; make sure it still builds the collector's."""
    expected = response_id("m/x", "toolproj/add/2/1", "nl", 3, 0)
    got = duckdb.sql(f"select {_response_id_sql(repr('m/x'), repr('toolproj/add/2/1'), repr('nl'), '3')}").fetchone()[0]
    if got != expected:
        raise RuntimeError("importers/pipeline.py: the SQL response_id no longer matches collector.response_id")


def _response_id_sql(model: str, problem_id: str, arm: str, seed: str) -> str:
    return f"left(sha256({model} || '|' || {problem_id} || '|' || {arm} || '|' || ({seed})::varchar || '|0'), 32)"


def _resolve_override(model: str | None, summary: ImportSummary) -> str | None:
    if model is None:
        return None
    if not model.strip():
        raise LegacyImportError("--model is empty")
    resolved = resolve(model)
    if resolved is None:
        summary.unknown_models[model.strip()] += 1
    return resolved or model.strip()


@dataclass(frozen=True)
class _File:
    path: Path
    format: str
    size: int
    origin: Origin

    @property
    def importer(self) -> str:
        return IMPORTER[self.format]


def _plan(paths: Iterable[Path], data: Paths, override: str | None, summary: ImportSummary) -> Iterator[_File]:
    """The files to import; the others are recorded in the summary as skipped, ignored or refused."""
    refused_writer = BatchWriter()
    for found in discover(paths):
        if found.aggregate:
            summary.skipped.append((found.path, found.aggregate))
        elif not found.importable:
            if found.explicit:
                summary.refused.append((found.path, found.problem))
                _quarantine_whole_file(found, data, refused_writer)
            else:
                summary.ignored.append((found.path, found.problem))
        elif found.format == RUN_CSV and override is None:
            summary.refused.append(
                (found.path, "no model is recorded in this file (an older per-run CSV): name it with --model ID")
            )
        else:
            origin = Origin.of(found.path)
            file = _File(found.path, found.format, origin.size, origin)
            if _unchanged(file, data, override):
                summary.unchanged.append(found.path)
            else:
                yield file
    refused_writer.commit()


def _quarantine_whole_file(found: Detected, data: Paths, writer: BatchWriter) -> None:
    with open(found.path, "rb") as fh:
        first = fh.readline(4096)
    table = pa.table(
        {"file": [str(found.path.resolve())], "line": [None], "reason": [f"not imported: {found.problem}"],
         "raw": [show(first)], "importer": ["legacy"], "quarantined_at": [datetime.now(timezone.utc)]},
        schema=QUARANTINE_SCHEMA,
    )
    writer.add(quarantine_shard(data, "legacy", found.path), table)


def _unchanged(file: _File, data: Paths, override: str | None) -> bool:
    """Imported before from this very file (same size and modification time) by this importer version."""
    manifest = manifest_shard(data, file.path)
    if not manifest.exists():
        return False
    row = pq.read_table(manifest).to_pylist()[0]
    same = (row["size"], row["mtime_ns"], row["importer_version"], row["model_override"], row["importer"]) == (
        file.origin.size, file.origin.mtime_ns, IMPORTER_VERSION, override if file.format == RUN_CSV else None, file.importer,
    )
    return same and all(Path(p).exists() for p in row["runs"])


def _batches(files: list[_File], limit: int) -> Iterator[list[_File]]:
    batch, size = [], 0
    for file in files:
        if batch and size + file.size > limit:
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += file.size
    if batch:
        yield batch


@contextmanager
def _connection(options: Options) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB bounded in memory, spilling to a private temporary folder."""
    tmp = tempfile.mkdtemp(prefix="evalhouse-import-")
    config = {"memory_limit": options.memory_limit, "temp_directory": tmp}
    if options.threads:
        config["threads"] = options.threads
    con = duckdb.connect(config=config)
    try:
        con.execute(
            "create or replace temp macro legacy_bool(x) as (case lower(trim(x)) "
            "when 'true' then true when '1' then true when '1.0' then true "
            "when 'false' then false when '0' then false when '0.0' then false end)"
        )
        yield con
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


class _Batch:
    """One batch of files through DuckDB: records → checks → identity → responses → shards."""

    def __init__(self, con, data: Paths, files: list[_File], override: str | None, summary: ImportSummary):
        self.con, self.data, self.files, self.override, self.summary = con, data, files, override, summary
        self.lines: dict[int, Lines] = {}

    def run(self) -> list[FileResult]:
        writer = BatchWriter()
        try:
            self._load_records()
            self._check()
            self._identify()
            winners = self._choose_copies()
            self._expand(winners)
            self._read_answers()
            self._problems(writer)
            results = self._write(writer, winners)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        finally:
            for name in ("records", "checked", "identified", "long", "answers", "batch_problems"):
                self.con.execute(f"drop table if exists {name}")
        return results

    # -- reading ------------------------------------------------------------------------------
    def _load_records(self) -> None:
        con = self.con
        jsonl = []
        for idx, file in enumerate(self.files):
            if file.format == RES_JSONL:
                self.lines[idx] = split_lines(file.path)
                jsonl.append((idx, self.lines[idx]))
        if jsonl:
            res_jsonl.load(con, jsonl, "records")
        else:
            con.register("empty_records", RECORD_SCHEMA.empty_table())
            con.execute("create or replace temp table records as select * from empty_records")
            con.unregister("empty_records")
        for idx, file in enumerate(self.files):
            if file.format == RES_CSV:
                table, _ = res_csv.read(file.path, idx)
            elif file.format == RUN_CSV:
                table, _ = run_csv.read(file.path, idx, self.override)
            else:
                continue
            con.register("csv_records", table)
            con.execute("insert into records select * from csv_records")
            con.unregister("csv_records")
        con.register("batch_files", self._files_table())
        con.execute("create or replace temp table files as select * from batch_files")
        con.unregister("batch_files")

    def _files_table(self) -> pa.Table:
        rows = []
        for idx, file in enumerate(self.files):
            folder_run = next((p for p in reversed(file.path.resolve().parts[:-1]) if RUN_FOLDER.match(p)), None)
            rows.append({
                "file_idx": idx, "importer": file.importer, "namespace": NAMESPACE[file.importer],
                "path": file.origin.file, "folder_run": folder_run or f"file-{file_key(file.path)}",
            })
        return pa.Table.from_pylist(rows)

    # -- checking -----------------------------------------------------------------------------
    def _check(self) -> None:
        """Each record's reason to be quarantined, or null; and the instance index where the file has none."""
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
        self.con.execute(f"""
            create or replace temp table checked as
            select r.*, f.importer, f.namespace, f.path, f.folder_run, {reason} as reason,
                   row_number() over (
                       partition by r.file_idx, trim(r.kind)
                       order by try_cast(trim(r.digit) as bigint) nulls last, try_cast(r.source_row as bigint), r.line
                   ) as position_in_kind
            from records as r join files as f using (file_idx)
        """)

    # -- identity -----------------------------------------------------------------------------
    def _identify(self) -> None:
        con = self.con
        given = [r[0] for r in con.execute("select distinct trim(model) from checked where reason is null").fetchall()]
        models = []
        for name in given:
            resolved = resolve(name)
            if resolved is None:
                self.summary.unknown_models[name] += 1
            models.append({"model_given": name, "model_id": resolved or name})
        con.register("model_map", pa.Table.from_pylist(models, schema=pa.schema(
            [("model_given", pa.string()), ("model_id", pa.string())])))
        con.execute(f"""
            create or replace temp table identified as
            select c.*,
                m.model_id,
                trim(c.model) as model_given,
                cast(trim(c.seed) as integer) as seed_i,
                cast(trim(c.digit) as integer) as digit_i,
                trim(c.kind) as kind_t,
                coalesce(nullif(trim(c.run_id), ''), c.folder_run) as run,
                coalesce(try_cast(nullif(trim(c.index_in_kind), '') as integer), position_in_kind::integer) as idx
            from checked as c join model_map as m on m.model_given = trim(c.model)
            where c.reason is null
        """)
        con.unregister("model_map")
        con.execute(f"alter table identified add column problem_id varchar default null")
        con.execute(f"update identified set problem_id = {problem_id_sql('namespace', 'kind_t', 'digit_i', 'idx')}")

    def _choose_copies(self) -> pa.Table:
        """Which file each run is loaded from: the newest copy among this batch and what is stored."""
        groups = self.con.execute(
            "select distinct importer, run, model_id, seed_i, file_idx from identified order by all"
        ).fetchall()
        by_run: dict[tuple, list[int]] = {}
        for importer, run, model, seed, idx in groups:
            by_run.setdefault((importer, run, model, seed), []).append(idx)
        rows = []
        for (importer, run, model, seed), idxs in by_run.items():
            candidates = sorted(idxs, key=lambda i: (self.files[i].origin.mtime_ns, self.files[i].origin.file))
            best = candidates[-1]
            stored = recorded_origin(run_shard(self.data, importer, run, model, seed))
            origin = self.files[best].origin
            keep = stored is None or stored.file == origin.file or origin.newer_than(stored)
            for idx in idxs:
                winner = keep and idx == best
                rows.append({"importer": importer, "run": run, "model_id": model, "seed_i": seed, "file_idx": idx,
                             "loaded": winner,
                             "newer": None if winner else (origin.file if keep else stored.file)})
        schema = pa.schema([("importer", pa.string()), ("run", pa.string()), ("model_id", pa.string()),
                            ("seed_i", pa.int32()), ("file_idx", pa.int32()), ("loaded", pa.bool_()),
                            ("newer", pa.string())])
        return pa.Table.from_pylist(rows, schema=schema)

    # -- responses ----------------------------------------------------------------------------
    def _expand(self, winners: pa.Table) -> None:
        """One row per arm that ran, of every record whose run is loaded from its file."""
        con = self.con
        con.register("winners", winners)
        parts = []
        for arm in ARMS:
            code = arm == "code"
            parts.append(f"""
                select i.file_idx, i.line, i.source_row, i.request_id, i.importer, i.path, i.run, i.model_id,
                    i.model_given, i.seed_i, i.kind_t as kind, i.digit_i, i.idx, i.problem_id, i.question, i.namespace,
                    nullif(i.gold, '') as gold, '{arm}' as arm,
                    i.{arm}_prompt as prompt, i.{arm}_text as text, legacy_bool(i.{arm}_correct) as reported_correct,
                    i.{arm}_status as status, i.{arm}_mode as mode, legacy_bool(i.{arm}_parse_err) as source_parse_failed,
                    {'i.code_exit_code' if code else 'null'} as exit_code,
                    {'i.code_stderr' if code else 'null'} as stderr,
                    {'i.code_latency_ms' if code else 'null'} as latency_ms
                from identified as i join winners as w using (importer, run, model_id, seed_i, file_idx)
                where w.loaded and coalesce(i.{arm}_status, '') <> ''
            """)
        con.execute(f"""
            create or replace temp table long as
            select row_number() over () as rid, *,
                case when arm <> 'code' then null
                     when status in ('ok', 'ok,ok') then 'ok'
                     when status = 'no_code' or lower(status) like 'no code%' then 'no_code'
                     when status = 'unreadable' then 'unreadable'
                     when status in ('timeout', 'error') then status
                     when split_part(status, ',', 2) = 'timeout' then 'timeout'
                     when split_part(status, ',', 2) = 'ok' then 'ok'
                     else 'error'
                end as exec_status
            from ({' union all '.join(parts)})
        """)
        con.unregister("winners")
        self.winners = winners

    def _read_answers(self) -> None:
        con = self.con
        con.execute(f"""
            create or replace temp table reply_answers as
            {answers.reply_answers_sql("(select rid, text from long where mode = 'reply')")}
        """)
        fallback = con.execute(
            "select l.rid, l.kind, l.text from long as l join reply_answers as a using (rid) where a.needs_python"
        ).fetchall()
        con.register("python_answers", answers.python_replies(fallback))
        payloads = con.execute("""
            select distinct kind, mode, payload from (
                select l.kind, l.mode, a.answer_json::varchar as payload
                from long as l join reply_answers as a using (rid) where a.answer_json is not null
                union all
                select kind, mode, text from long where mode = 'value' and text is not null
                union all
                select kind, mode, text from long where mode = 'repr' and exec_status = 'ok' and text is not null
            )
        """).fetchall()
        con.register("payload_answers", answers.read_payloads(payloads))
        con.execute("""
            create or replace temp table answers as
            select l.rid,
                case when l.exec_status is not null and l.exec_status <> 'ok' then null
                     when p.rid is not null then p.parsed_answer else v.parsed_answer end as parsed_answer,
                case when l.exec_status is not null and l.exec_status <> 'ok' then null
                     when p.rid is not null then p.raw_answer else v.raw_answer end as raw_answer,
                case when l.exec_status = 'no_code' then 'no_code'
                     when l.exec_status = 'unreadable' then 'unreadable_answer'
                     when l.exec_status is not null and l.exec_status <> 'ok' then 'exec_failed'
                     when p.rid is not null then p.parse_error
                     when a.answer_error is not null then a.answer_error
                     when l.mode = 'repr' and l.text is null then 'no_output'
                     else v.parse_error end as parse_error
            from long as l
            left join reply_answers as a using (rid)
            left join python_answers as p on p.rid = l.rid
            left join payload_answers as v
                on v.kind = l.kind and v.mode = l.mode
               and v.payload = case when l.mode = 'reply' then a.answer_json::varchar else l.text end
        """)
        con.unregister("python_answers")
        con.unregister("payload_answers")
        con.execute("drop table reply_answers")

    def _problems(self, writer: BatchWriter) -> None:
        rows = self.con.execute("""
            select problem_id, kind_t, digit_i, idx, any_value(nullif(question, '')), any_value(namespace)
            from identified group by problem_id, kind_t, digit_i, idx order by problem_id
        """).fetchall()
        table = problems_table(rows)
        self.summary.problems += table.num_rows
        self.summary.regraded_problems += table.num_rows - table.column("gold_answer").null_count
        self.con.register("problems_arrow", table)
        self.con.execute("create or replace temp table batch_problems as select * from problems_arrow")
        self.con.unregister("problems_arrow")
        if table.num_rows:
            digest = hashlib.sha256(
                "\n".join(f"{r['problem_id']}|{r['gold_answer']}|{r['question']}" for r in table.to_pylist()).encode()
            ).hexdigest()[:16]
            target = self.data.problems / "source=legacy" / f"legacy-{digest}.parquet"
            if not target.exists():
                writer.add(target, table)

    # -- writing ------------------------------------------------------------------------------
    def _write(self, writer: BatchWriter, winners: pa.Table) -> list[FileResult]:
        con = self.con
        responses = con.execute(self._responses_sql()).fetch_arrow_table()
        responses = responses.select(IMPORT_RESPONSE_SCHEMA.names).cast(IMPORT_RESPONSE_SCHEMA)
        runs_of_file: dict[int, list[str]] = {}
        keys = con.execute("""
            select l.importer, l.run, l.model_id, l.seed_i, min(l.file_idx), count(*)
            from long as l group by all order by all
        """).fetchall()
        offset = 0
        for importer, run, model, seed, idx, n in keys:
            shard = run_shard(self.data, importer, run, model, seed)
            writer.add(shard, responses.slice(offset, n), self.files[idx].origin)
            runs_of_file.setdefault(idx, []).append(str(shard))
            offset += n
        return self._results(writer, runs_of_file)

    def _responses_sql(self) -> str:
        rid = _response_id_sql("l.model_id", "l.problem_id", "l.arm", "l.seed_i")
        return f"""
            select
                {rid} as response_id, l.run as run_id, l.importer as source, l.model_id as model, l.problem_id,
                l.kind, l.digit_i as digit, l.arm, l.seed_i as seed, l.prompt, l.text as response_text,
                l.gold as gold_answer, l.reported_correct, null as error, try_cast(l.latency_ms as double) as latency_ms,
                null as prompt_tokens, null as completion_tokens,
                0 as sample, null as attempt,
                try_strptime(regexp_extract(l.run, '(\\d{{8}}_\\d{{6}})', 1), '%Y%m%d_%H%M%S') as created_at,
                l.importer as prompt_version, null as temperature, null as max_tokens, null as provider_model,
                null as finish_reason, null as cost, null as error_class, null as status_code,
                a.parsed_answer, a.parse_error,
                case when p.gold_answer is null then case when l.reported_correct then 'correct' else 'wrong' end
                     when a.parsed_answer is null then 'parse_error'
                     when a.parsed_answer = p.gold_answer then 'correct'
                     else 'wrong' end as verdict,
                case when p.gold_answer is null then '{SOURCE_VERDICT_ONLY}'
                     when a.parsed_answer is null then a.parse_error
                     when a.parsed_answer = p.gold_answer then 'ok'
                     else 'wrong_value' end as verdict_reason,
                l.exec_status, try_cast(l.exit_code as integer) as exec_exit_code, null as exec_limit,
                case when l.arm = 'code' then coalesce(l.stderr,
                    case when l.exec_status = 'error' then regexp_extract(l.status, '^[^,]*,(.*)$', 1) end) end
                    as exec_stderr,
                l.model_given as model_as_given, l.idx as index_in_kind, a.raw_answer,
                l.path as source_file, l.line as source_line, l.source_row, nullif(l.request_id, '') as source_request_id,
                l.status as source_status, l.source_parse_failed
            from long as l
            join answers as a using (rid)
            left join batch_problems as p using (problem_id)
            order by l.importer, l.run, l.model_id, l.seed_i, l.problem_id, l.arm
        """

    def _results(self, writer: BatchWriter, runs_of_file: dict[int, list[str]]) -> list[FileResult]:
        con = self.con
        con.register("winners_t", self.winners)
        counts = {
            row[0]: row[1:]
            for row in con.execute("""
                with rows as (
                    select c.file_idx,
                        count(*) as n_read,
                        count_if(c.reason is not null) as n_quarantined
                    from checked as c group by all
                ),
                loaded as (
                    select i.file_idx, count_if(w.loaded) as n_loaded, count_if(not w.loaded) as n_superseded
                    from identified as i join winners_t as w using (importer, run, model_id, seed_i, file_idx)
                    group by all
                ),
                arms as (
                    select file_idx, count(*) as n_responses from long group by all
                ),
                never as (
                    select i.file_idx, sum(""" + " + ".join(
                        f"(i.{arm}_mode is not null and coalesce(i.{arm}_status, '') = '')::int" for arm in ARMS
                    ) + """) as n_never
                    from identified as i join winners_t as w using (importer, run, model_id, seed_i, file_idx)
                    where w.loaded group by all
                )
                select r.file_idx, r.n_read, coalesce(l.n_loaded, 0), r.n_quarantined, coalesce(l.n_superseded, 0),
                       coalesce(a.n_responses, 0), coalesce(n.n_never, 0)
                from rows as r left join loaded as l using (file_idx) left join arms as a using (file_idx)
                left join never as n using (file_idx)
            """).fetchall()
        }
        newer = {}
        for row in self.winners.to_pylist():
            if row["newer"]:
                newer.setdefault(row["file_idx"], []).append(row["newer"])
        con.unregister("winners_t")
        quarantined = self._quarantine_rows()
        now = datetime.now(timezone.utc)
        results = []
        for idx, file in enumerate(self.files):
            n_read, n_loaded, n_quar, n_sup, n_resp, n_never = counts.get(idx, (0, 0, 0, 0, 0, 0))
            result = FileResult(file.path, file.importer, n_read, n_loaded, n_quar, n_sup, n_resp, n_never,
                                runs_of_file.get(idx, []), newer.get(idx, []))
            q_shard = quarantine_shard(self.data, file.importer, file.path)
            rows = quarantined.get(idx, [])
            if rows:
                for row in rows:
                    row.update(file=file.origin.file, importer=file.importer, quarantined_at=now)
                    self.summary.quarantine_reasons[_reason_class(row["reason"])] += 1
                writer.add(q_shard, pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA))
            else:
                writer.remove(q_shard)
            writer.add(manifest_shard(self.data, file.path), self._manifest(file, result, now))
            results.append(result)
        return results

    def _quarantine_rows(self) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {}
        for idx, line, reason, raw in self.con.execute(
            "select file_idx, line, reason, raw from checked where reason is not null order by file_idx, line"
        ).fetchall():
            if raw is None and idx in self.lines:
                raw = show(self.lines[idx].data[line - 1].as_py())
            out.setdefault(idx, []).append({"line": line, "reason": reason, "raw": raw})
        return out

    def _manifest(self, file: _File, result: FileResult, now: datetime) -> pa.Table:
        row = {
            "file": file.origin.file, "importer": file.importer, "importer_version": IMPORTER_VERSION,
            "model_override": self.override if file.format == RUN_CSV else None,
            "size": file.origin.size, "mtime_ns": file.origin.mtime_ns,
            "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined, "rows_superseded": result.rows_superseded,
            "responses": result.responses, "arms_never_ran": result.arms_never_ran, "runs": result.runs,
            "imported_at": now,
        }
        return pa.Table.from_pylist([row], schema=MANIFEST_SCHEMA)


def _integer_check(column: str) -> str:
    return (
        f"case when try_cast(trim({column}) as bigint) is null then "
        f"'{column} ' || coalesce('''' || {column} || '''', 'missing') || ' is not an integer' end"
    )


def _reason_class(reason: str) -> str:
    """The kind of a quarantine reason, for the summary (`wrong column count: expected 32…` -> `wrong column count`)."""
    return reason.split(":")[0].split(" (")[0].split(";")[0]
