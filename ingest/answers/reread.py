"""`evalhouse regrade`: read again the stored replies the current reader has not read.

Rows stored by an older version of the reader, or by tools that store no answer (shards of older
versions, other tools' shards holding only the contract's columns), are read here by the one reader and
written to `raw/answers/<the response shard's path below raw/>`: one file per response shard, which the
warehouse prefers to what the shard holds (staging.stg_answers). A shard is skipped without reading its
rows when its footer shows every row read by the current version, or when its answers file was written
for the shard as it is now (same size, modification time and version): a second run reads nothing.
`evalhouse build` runs this first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs
from tqdm import tqdm

from evalhouse.files import write_atomic
from evalhouse.raw_tables import is_schema_shard
from evalhouse.vocabulary import ARMS

from ..store import REPAIR_HINT
from . import ANSWER_SCHEMA, EXTRACTOR_VERSION, extract_answer, grade_printed, grade_reply, normalize
from .grade import Graded

_METADATA_KEY = b"evalhouse.reread"
_CODE_ARMS = {a.code for a in ARMS if a.runs_code}
# what says whether a row needs reading again; the text is read only for the rows that do
_FLAGS = ("error", "parsed_answer", "parse_error", "extractor_version", "verdict", "verdict_reason", "exec_status")
_COLUMNS = (
    "response_id",
    "problem_id",
    "kind",
    "arm",
    "response_text",
    "error",
    "finish_reason",
    "parsed_answer",
    "parse_error",
    "extractor_version",
    "verdict",
    "verdict_reason",
    "exec_status",
)


class UnreadableShard(Exception):
    """A response shard that is not readable Parquet (named, so the user can set it aside)."""


@dataclass
class RegradeSummary:
    shards: int = 0
    up_to_date: int = 0
    read: int = 0  # shards whose rows were read
    rows: int = 0  # rows read again
    by_outcome: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        outcome = ", ".join(f"{k} {v}" for k, v in sorted(self.by_outcome.items())) or "nothing to read"
        return [
            f"{self.shards} response shards: {self.up_to_date} up to date, {self.read} read",
            f"{self.rows} replies read again by extractor {EXTRACTOR_VERSION} ({outcome})",
        ]


def regrade(raw: Path | str, progress: bool = False, only: list[Path] | None = None) -> RegradeSummary:
    """Read again, under `raw/answers/`, every stored reply the current reader has not read. `raw` is a
    local folder or an s3:// one (EVALHOUSE_DATA in object storage); `only` limits the look to these
    response shards (the new ones of an incremental build)."""
    filesystem, root = _filesystem(raw)
    summary = RegradeSummary()
    if only is not None:
        listed = filesystem.get_file_info([str(Path(p).absolute()) for p in only])
    else:
        listed = filesystem.get_file_info(fs.FileSelector(f"{root}/responses", recursive=True, allow_not_found=True))
    shards = sorted(
        (
            f
            for f in listed
            if f.type == fs.FileType.File and f.path.endswith(".parquet") and not is_schema_shard(f.path)
        ),
        key=lambda f: f.path,
    )
    summary.shards = len(shards)
    problems = _Problems(filesystem, f"{root}/problems")
    for shard in tqdm(shards, desc="regrade", unit="shard", disable=not progress or not shards):
        relative = shard.path[len(root) + 1 :]
        target = f"{root}/answers/{relative}"
        stamp = {"size": shard.size, "mtime_ns": shard.mtime_ns, "extractor_version": EXTRACTOR_VERSION}
        try:
            if _read_when_stored(filesystem, shard.path) or _stamp_of(filesystem, target) == stamp:
                summary.up_to_date += 1
                continue
            table = _read_again(filesystem, shard.path, relative, problems, summary)
        except (OSError, pa.ArrowException) as exc:
            raise UnreadableShard(
                f"{_uri(raw, relative)} is not a readable Parquet shard ({str(exc).splitlines()[0]}); {REPAIR_HINT}"
            ) from None
        if table is None:  # every reply was read when it was stored (an import's values carry no version)
            summary.up_to_date += 1
            continue
        _write(filesystem, table, target, stamp)
        summary.read += 1
    return summary


def _filesystem(raw: Path | str) -> tuple[fs.FileSystem, str]:
    if isinstance(raw, str) and "://" in raw:
        from evalhouse.storage import s3_filesystem

        return s3_filesystem(), raw.partition("://")[2].rstrip("/")
    return fs.LocalFileSystem(), str(Path(raw).absolute())


def _uri(raw: Path | str, relative: str) -> str:
    return f"{str(raw).rstrip('/')}/{relative}"


def _stamp_of(filesystem: fs.FileSystem, target: str) -> dict[str, Any] | None:
    try:
        metadata = pq.read_schema(target, filesystem=filesystem).metadata or {}
        return json.loads(metadata[_METADATA_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None


def _read_when_stored(filesystem: fs.FileSystem, shard: str) -> bool:
    """Whether the footer shows every row read by the current version (the collector's shards)."""
    metadata = pq.read_metadata(shard, filesystem=filesystem)
    names = metadata.schema.names
    if "extractor_version" not in names:
        return metadata.num_rows == 0
    column = names.index("extractor_version")
    for i in range(metadata.num_row_groups):
        stats = metadata.row_group(i).column(column).statistics
        if stats is None or not stats.has_min_max or stats.null_count:
            return False
        if stats.min != EXTRACTOR_VERSION or stats.max != EXTRACTOR_VERSION:
            return False
    return True


def _read_again(
    filesystem: fs.FileSystem, shard: str, relative: str, problems: _Problems, summary: RegradeSummary
) -> pa.Table | None:
    """The shard's stale replies read again, or None when it has none (then only the narrow columns that
    say so were read, not the text)."""
    present = pq.read_schema(shard, filesystem=filesystem).names
    flags = _read_columns(filesystem, shard, [c for c in _FLAGS if c in present])
    positions = pc.indices_nonzero(_stale(flags))
    if len(positions) == 0:
        return None
    table = _read_columns(filesystem, shard, [c for c in _COLUMNS if c in present])
    rows = table.take(positions).to_pylist()
    out: dict[str, list] = {name: [] for name in ANSWER_SCHEMA.names if name != "shard_row"}
    for row in rows:
        graded = _read(row, problems)
        summary.rows += 1
        outcome = graded.parse_error or "read"
        summary.by_outcome[outcome] = summary.by_outcome.get(outcome, 0) + 1
        for name, value in (
            ("shard", relative),
            ("response_id", row.get("response_id")),
            ("parsed_answer", graded.parsed_answer),
            ("parse_error", graded.parse_error),
            ("verdict", graded.verdict),
            ("verdict_reason", graded.verdict_reason),
            ("extractor_version", EXTRACTOR_VERSION),
        ):
            out[name].append(value)
    columns = {name: _strings(values) for name, values in out.items()}
    columns["shard_row"] = positions.cast(pa.int64())
    return pa.Table.from_arrays([columns[name] for name in ANSWER_SCHEMA.names], schema=ANSWER_SCHEMA)


def _read_columns(filesystem: fs.FileSystem, path: str, columns: list[str]) -> pa.Table:
    """One file's columns. Not `pq.read_table`: that imports pyarrow.dataset, 0.7 s of every build."""
    with pq.ParquetFile(path, filesystem=filesystem) as file:
        return file.read(columns=columns)


def _stale(table: pa.Table) -> pa.Array:
    """Which rows have a reply the current reader has not read: never read (no answer, no parse error),
    or read by another version. Failed requests, arms that never ran and the legacy pipeline's own
    readings of values (no version) have no reply to read."""

    def column(name: str) -> pa.Array:
        values = table[name] if name in table.column_names else pa.nulls(len(table))
        return values.cast(pa.string()) if pa.types.is_null(values.type) else values

    def equals(name: str, value: str) -> pa.Array:  # false where the value is missing
        return pc.is_in(column(name), value_set=_strings([value]))

    never_read = pc.and_(pc.is_null(column("parsed_answer")), pc.is_null(column("parse_error")))
    version = column("extractor_version")
    other_version = pc.and_(pc.is_valid(version), pc.invert(equals("extractor_version", EXTRACTOR_VERSION)))
    no_reply = pc.or_(
        pc.is_valid(column("error")), pc.or_(equals("verdict", "not_run"), equals("exec_status", "not_run"))
    )
    kept_verdict = equals("verdict_reason", "source_verdict_only")
    return pc.and_(pc.invert(pc.or_(no_reply, kept_verdict)), pc.or_(never_read, other_version))


def _strings(values: list[str | None]) -> pa.Array:
    """A string array from Python values. Not `pa.array`: its first call imports pandas, to see whether it
    was given pandas objects, and that import was 0.3 s of every build that reads a reply again."""
    builder = pa.lib.StringBuilder()
    builder.append_values(values)
    return builder.finish()


def _read(row: dict[str, Any], problems: _Problems) -> Graded:
    """The answer of one reply, checked against its instance when the kind needs a verifier."""
    kind, text = row.get("kind") or "", row.get("response_text")
    if kind not in problems.kinds:  # a kind evalhouse does not know: the answer as written
        extraction = extract_answer(text)
        if not extraction.ok:
            return Graded(None, extraction.error, "parse_error", extraction.error)
        parsed, _, error = normalize(kind, extraction.answer)
        return Graded(parsed, error, None, None)
    instance = problems.instance(row.get("problem_id")) if problems.kinds[kind] else None
    if row.get("arm") in _CODE_ARMS:
        graded = grade_printed(kind, instance, text or "")
    else:
        graded = grade_reply(kind, instance, text, row.get("finish_reason"))
    if not problems.kinds[kind]:  # comparison kinds are graded by the warehouse, from the problem's gold
        return Graded(graded.parsed_answer, graded.parse_error, None, None)
    return graded


class _Problems:
    """Problem instances, read only if a reply of a kind with many right answers needs checking."""

    def __init__(self, filesystem: fs.FileSystem, folder: str):
        from evalhouse.ingest.problems import KINDS

        self.filesystem, self.folder = filesystem, folder
        self.kinds = {name: kind.needs_verifier for name, kind in KINDS.items()}
        self._instances: dict[str, dict] | None = None

    def instance(self, problem_id: str | None) -> dict | None:
        if self._instances is None:
            self._instances = {}
            listed = self.filesystem.get_file_info(fs.FileSelector(self.folder, recursive=True, allow_not_found=True))
            for info in listed:
                if info.type != fs.FileType.File or not info.path.endswith(".parquet") or is_schema_shard(info.path):
                    continue
                table = _read_columns(self.filesystem, info.path, ["problem_id", "instance_json"])
                for pid, text in zip(table.column("problem_id").to_pylist(), table.column("instance_json").to_pylist()):
                    if pid is not None and text:
                        self._instances[pid] = json.loads(text)
        return self._instances.get(problem_id or "")


def _write(filesystem: fs.FileSystem, table: pa.Table, target: str, stamp: dict[str, Any]) -> None:
    """Atomically: a rename on a local disk, one PUT (complete or absent) in object storage."""
    table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(stamp).encode()})
    if isinstance(filesystem, fs.LocalFileSystem):
        write_atomic(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    else:
        pq.write_table(table, target, compression="zstd", filesystem=filesystem)


__all__ = ["RegradeSummary", "UnreadableShard", "regrade"]
