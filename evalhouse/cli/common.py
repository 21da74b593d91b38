"""Helpers shared by the command modules: list options and turning library errors into `Error:` lines."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def csv_list(value: str | None, kind: type = str) -> list[Any] | None:
    """Parse `a,b,c` (or `2,4`) into a list; None when the option was not given."""
    if value is None:
        return None
    items = [v.strip() for v in str(value).split(",") if v.strip()]
    try:
        return [kind(v) for v in items]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of {kind.__name__}") from None


def user_errors(*types: type[BaseException]) -> Callable:
    """Turn the named exception types into a one-line `Error:` and exit code 1."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except types as exc:
                raise click.ClickException(str(exc).strip() or type(exc).__name__) from None

        return inner

    return wrap
