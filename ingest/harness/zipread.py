"""Reading the members of a zip one at a time, including zstd-compressed ones (inspect's `.eval`).

inspect_ai ≥ 0.3.1xx writes `.eval` logs with Zstandard (method 93), which Python's zipfile cannot
decompress before 3.14. The central directory says where each member is; a zstd member is read
from its offset and decompressed (across frames: inspect splits large members into several).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import zstandard

ZSTD = 93
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


class Archive:
    """A zip file open for reading members by name, in any order."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise ValueError(f"not a readable zip archive ({exc})") from None
        self.members = {info.filename: info for info in self.zip.infolist()}

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def names(self) -> Iterator[str]:
        return iter(self.members)

    def read(self, name: str) -> bytes:
        """The member's bytes; ValueError when they cannot be read (damaged, cut short, bad compression)."""
        try:
            return self._read(name)
        except (
            zipfile.BadZipFile,
            zstandard.ZstdError,
            zlib.error,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise ValueError(f"{name}: damaged member ({exc})") from None

    def _read(self, name: str) -> bytes:
        info = self.members[name]
        if info.compress_type != ZSTD:
            return self.zip.read(info)
        fh = self.zip.fp
        fh.seek(info.header_offset)
        header = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
        if header[0] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"{name}: bad local header")
        fh.seek(header[9] + header[10], 1)  # file name and extra field
        compressed = fh.read(info.compress_size)
        with zstandard.ZstdDecompressor().stream_reader(compressed, read_across_frames=True) as reader:
            return reader.read()
