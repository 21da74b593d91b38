"""Shards on S3-compatible object storage: `EVALHOUSE_DATA=s3://bucket/prefix`.

Credentials and endpoint come from the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL for MinIO, moto, R2 …), never
from evalhouse's own settings. An object PUT is atomic (the object is complete or absent), so a shard
written here needs no temporary name. DuckDB reads the bucket through fsspec (s3fs, the `s3` profile
target) because its own httpfs extension cannot be installed without network access to
extensions.duckdb.org; see docs/scaling.md.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class StorageError(Exception):
    """Object storage could not be reached or refused a request; the message names the object or folder."""


@contextmanager
def _reaching(uri: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:  # pyarrow's S3 errors: no such bucket, access denied, endpoint down
        raise StorageError(f"object storage {uri}: {str(exc).splitlines()[0]}") from None


def is_remote(location: object) -> bool:
    """Whether a data location is an object-store URI rather than a local folder."""
    return isinstance(location, str) and location.startswith(("s3://", "s3a://"))


def s3_filesystem():
    """pyarrow's S3 filesystem, configured from the standard AWS environment variables."""
    from pyarrow import fs

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs = {"region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        kwargs.update(endpoint_override=host or scheme, scheme=scheme if host else "https")
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        kwargs.update(
            access_key=os.environ["AWS_ACCESS_KEY_ID"],
            secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
            session_token=os.environ.get("AWS_SESSION_TOKEN"),
        )
    return fs.S3FileSystem(**kwargs)


def write_shard(table: pa.Table, folder: str, stem: str | None = None) -> str:
    """Write one shard under an s3:// folder (one PUT: complete or absent) and return its URI."""
    stem = stem or f"part-{uuid.uuid4().hex}"
    uri = f"{folder.rstrip('/')}/{stem}.parquet"
    with _reaching(uri):
        pq.write_table(table, uri.partition("://")[2], filesystem=s3_filesystem(), compression="zstd")
    return uri


def _objects(s3, folder: str, recursive: bool = True) -> list:
    """The objects (files, not folder markers) under an s3:// folder. An empty folder is nothing stored
    yet; a bucket that does not exist is a mistake, reported by name."""
    from pyarrow import fs

    prefix = _key(folder)
    found = [
        f
        for f in s3.get_file_info(fs.FileSelector(prefix, recursive=recursive, allow_not_found=True))
        if f.type == fs.FileType.File
    ]
    bucket = prefix.split("/", 1)[0]
    if not found and s3.get_file_info(bucket).type == fs.FileType.NotFound:
        raise StorageError(f"object storage {folder}: no such bucket {bucket!r}")
    return found


def parquet_files(folder: str) -> list[str]:
    """The Parquet objects under an s3:// folder, as s3:// URIs, sorted."""
    scheme = folder.partition("://")[0]
    with _reaching(folder):
        found = _objects(s3_filesystem(), folder)
    return sorted(f"{scheme}://{f.path}" for f in found if f.path.endswith(".parquet"))


def read_schema(uri: str) -> pa.Schema:
    return pq.read_schema(uri.partition("://")[2], filesystem=s3_filesystem())


def _key(uri: str) -> str:
    return uri.partition("://")[2].rstrip("/")


def exists(uri: str) -> bool:
    """Whether an object is stored at `uri`."""
    from pyarrow import fs

    with _reaching(uri):
        return s3_filesystem().get_file_info(_key(uri)).type == fs.FileType.File


def names(folder: str) -> list[str]:
    """The names of the objects directly under an s3:// folder."""
    with _reaching(folder):
        return [f.base_name for f in _objects(s3_filesystem(), folder, recursive=False)]


def read_columns(folder: str, schema: pa.Schema, columns: list[str], filename: bool = False) -> pa.Table:
    """`columns` of every shard under an s3:// folder, read as `schema` (a column a shard lacks reads as null);
    with `filename`, also each row's object as an s3:// URI."""
    import pyarrow.dataset as ds

    files = [_key(uri) for uri in parquet_files(folder)]
    if not files:
        empty = schema.empty_table().select(columns)
        return empty.append_column("filename", pa.array([], pa.string())) if filename else empty
    with _reaching(folder):
        dataset = ds.dataset(files, schema=schema, format="parquet", filesystem=s3_filesystem())
        if not filename:
            return dataset.to_table(columns=columns)
        scheme = folder.partition("://")[0]
        parts = []
        for fragment in dataset.get_fragments():
            part = fragment.to_table(columns=columns, schema=schema)
            parts.append(
                part.append_column("filename", pa.array([f"{scheme}://{fragment.path}"] * part.num_rows, pa.string()))
            )
        return pa.concat_tables(parts)


def modified_since(folder: str, when: float) -> int:
    """Parquet objects under an s3:// folder written after `when` (a POSIX time)."""
    with _reaching(folder):
        found = _objects(s3_filesystem(), folder)
    return sum(1 for f in found if f.path.endswith(".parquet") and f.mtime is not None and f.mtime.timestamp() > when)


def local_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every Parquet file under a local folder, by path relative to it."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): (st.st_size, st.st_mtime_ns)
        for p in folder.rglob("*.parquet")
        for st in [p.stat()]
    }


def mirror_changes(local: Path, remote: str, before: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """Repeat in the bucket what changed under a local folder since `before` (its local_snapshot): files
    written or rewritten, and files the bucket lacks (an earlier upload that failed), are uploaded (one PUT
    each); files removed are deleted. Nothing else in the bucket is touched, so what other machines put
    there stays. Returns (uploaded, deleted)."""
    from pyarrow import fs

    after = local_snapshot(local)
    prefix = _key(remote)
    with _reaching(remote):
        s3 = s3_filesystem()
        stored = {f.path[len(prefix) + 1 :]: f.size for f in _objects(s3, remote)}
        written = sorted(rel for rel, stat in after.items() if before.get(rel) != stat or stored.get(rel) != stat[0])
        removed = sorted(rel for rel in before if rel not in after and rel in stored)
        for rel in written:
            fs.copy_files(
                str(local / rel), f"{prefix}/{rel}", source_filesystem=fs.LocalFileSystem(), destination_filesystem=s3
            )
        for rel in removed:
            s3.delete_file(f"{prefix}/{rel}")
    return len(written), len(removed)
