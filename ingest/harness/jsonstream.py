"""One pass over a large JSON document: its top-level fields whole, one array's items one at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

_START = {"start_map", "start_array"}
_END = {"end_map", "end_array"}


def top_level(fh: BinaryIO, streamed: str) -> Iterator[tuple[str, str, Any]]:
    """Yield ("field", key, value) for each top-level field but `streamed`, and ("item", streamed, value)
    for each item of the top-level array `streamed`, in document order."""
    key = None
    builder: ObjectBuilder | None = None
    depth = 0
    kind = "field"
    in_stream = False
    item_prefix = f"{streamed}.item"
    for prefix, event, value in ijson.parse(fh, use_float=True):
        if builder is not None:
            builder.event(event, value)
            depth += (event in _START) - (event in _END)
            if depth == 0:
                yield kind, key, builder.value
                builder = None
            continue
        if prefix == "" and event == "map_key":
            key, in_stream = value, False
            continue
        if in_stream:
            if prefix == item_prefix and event in _START:
                builder, depth, kind = ObjectBuilder(), 1, "item"
                builder.event(event, value)
            continue
        if prefix != key:
            continue
        if key == streamed and event == "start_array":
            in_stream = True
        elif event in _START:
            builder, depth, kind = ObjectBuilder(), 1, "field"
            builder.event(event, value)
        elif event not in _END:
            yield "field", key, value
