"""Importing the research pipeline's legacy result files (res.jsonl, res.csv, per-run CSVs).

`import_paths` finds the files under the given paths, detects their format, loads each record as
one response per arm that ran, quarantines what cannot be read (file, line, reason, raw text), and
recomputes golds where the warehouse can. See README, "Importing legacy results".
"""

from .detect import FORMATS, Detected, detect, discover
from .pipeline import LegacyImportError, Options, import_paths
from .regrade import SOURCE_VERDICT_ONLY
from .schemas import IMPORT_RESPONSE_SCHEMA
from .summary import FileResult, ImportSummary

__all__ = [
    "FORMATS",
    "IMPORT_RESPONSE_SCHEMA",
    "SOURCE_VERDICT_ONLY",
    "Detected",
    "FileResult",
    "ImportSummary",
    "LegacyImportError",
    "Options",
    "detect",
    "discover",
    "import_paths",
]
