"""Reading and grading answers: the one place evalhouse turns model text into an answer.

The collector, the importers and `evalhouse regrade` all read answers here (`text`: the JSON `answer`
out of a reply, the value a program printed; `grade`: the kind's normalisation and check), and store
what they read with `EXTRACTOR_VERSION`. Rows stored without an answer read by the current version
(shards of older versions or other tools) are read again by `evalhouse regrade` (`reread`), which
writes `data/raw/answers/` (`ANSWER_SCHEMA`); the warehouse prefers those. SQL never parses model text.
"""

from __future__ import annotations

import pyarrow as pa

from .grade import Graded, grade_printed, grade_reply, grade_value, normalize
from .text import Extraction, extract_answer, extract_code, object_spans, parse_printed

# Bump when reading or normalising changes what a stored reply reads as: `evalhouse regrade` then reads
# every stored reply again.
EXTRACTOR_VERSION = "a1"

ANSWER_SCHEMA = pa.schema(
    [
        ("shard", pa.string()),  # the response shard's path below raw/
        ("shard_row", pa.int64()),
        ("response_id", pa.string()),
        ("parsed_answer", pa.string()),
        ("parse_error", pa.string()),
        ("verdict", pa.string()),
        ("verdict_reason", pa.string()),
        ("extractor_version", pa.string()),
    ]
)

__all__ = [
    "ANSWER_SCHEMA",
    "EXTRACTOR_VERSION",
    "Extraction",
    "Graded",
    "extract_answer",
    "extract_code",
    "grade_printed",
    "grade_reply",
    "grade_value",
    "normalize",
    "object_spans",
    "parse_printed",
]
