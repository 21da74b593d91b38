"""SQL statements kept in `.sql` files beside the code that runs them, read once and rendered with jinja2.

A statement whose shape follows the vocabulary (a column per arm) is a jinja2 template; names enter the text
only through `ident` (`ident('code', 'status')` -> `"code_status"`) and `name` (`name('code')` -> `'code'`),
which accept nothing but `[A-Za-z_][A-Za-z0-9_]*`. Values never enter the text: they are DuckDB bind
parameters (`$paths`), which DuckDB binds as constants, so a pattern or a JSON structure passed that way is
planned exactly as if it were written out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Hashable

import jinja2

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _checked(parts: tuple[object, ...]) -> str:
    text = "_".join(str(p) for p in parts)
    if not _NAME.fullmatch(text):
        raise ValueError(f"not a plain SQL name: {text!r}")
    return text


def ident(*parts: object) -> str:
    """A quoted identifier made of `parts` joined by `_` (refused unless it is a plain name)."""
    return f'"{_checked(parts)}"'


def name(*parts: object) -> str:
    """A plain name as a string literal (an arm or a key named in a message)."""
    return f"'{_checked(parts)}'"


class Statements:
    """The `sql/` folder of one package: `statements("x.sql", validate=True)` is that file rendered, cached
    per file and context (so the context must be hashable: tuples, not lists). `constants` are seen by
    every file of the folder."""

    def __init__(self, package: str, folder: str = "sql", **constants: Hashable):
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader(package, folder),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # SQL, not HTML: names go through ident/name, values are bind parameters
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._env.globals.update(constants, ident=ident, name=name)
        self._env.filters.update(ident=ident, name=name)
        self._rendered: dict[tuple[str, tuple[tuple[str, Hashable], ...]], str] = {}
        self._lock = threading.Lock()

    def __call__(self, statement: str, **context: Hashable) -> str:
        key = (statement, tuple(sorted(context.items())))
        text = self._rendered.get(key)
        if text is None:
            with self._lock:
                text = self._rendered.get(key)
                if text is None:
                    text = self._env.get_template(statement).render(**context)
                    self._rendered[key] = text
        return text
