"""A test project: a data folder and a warehouse, selected through the environment as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from evalhouse.config import Paths

REPO = Path(__file__).resolve().parent.parent


def paths_in(root: Path) -> Paths:
    return Paths(data=root / "data", warehouse=root / "warehouse" / "evalhouse.duckdb")


@contextmanager
def selected(p: Paths) -> Iterator[Paths]:
    """EVALHOUSE_DATA and EVALHOUSE_WAREHOUSE point at `p`, run from the repo; all restored after."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALHOUSE_DATA", str(p.data))
        mp.setenv("EVALHOUSE_WAREHOUSE", str(p.warehouse))
        mp.chdir(REPO)
        yield p
