"""Experiment specs: a TOML file whose keys are `ingest run`'s long options with `_` for `-`.

A spec makes a run reproducible; flags given beside it override it. Example:

    model = ["mistralai/codestral-2508", "openai/gpt-5-nano"]
    kinds = ["add", "sub", "lcs"]
    digits = [2, 4, 8]
    n = 30
    seeds = [0, 1, 2]
    concurrency = 32
    require_parameters = true
    allow_fallbacks = false
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from pathlib import Path
from typing import Any

from .collector import RunConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class SpecError(Exception):
    pass


# Option name (as in the spec and on the command line) -> RunConfig field, where they differ.
OPTION_FIELDS = {"model": "models", "models": "models", "timeout": "timeout_s"}
# RunConfig fields that are library settings, not options.
LIBRARY_ONLY = {"retry_wait_initial", "retry_wait_max"}
REQUIRED = ("models", "kinds", "digits", "n")


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(RunConfig)


def spec_keys() -> list[str]:
    """Every key a spec may hold."""
    fields = {f.name for f in dataclasses.fields(RunConfig)} - LIBRARY_ONLY
    renamed = set(OPTION_FIELDS.values())
    return sorted((fields - renamed) | set(OPTION_FIELDS))


_NAMES = {
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    bool: ("true or false", "booleans"),
    str: ("a string", "strings"),
}


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) is list:
        return f"a list of {_NAMES[typing.get_args(tp)[0]][1]}"
    return _NAMES[tp][0]


def _scalar(value: Any, tp: Any) -> Any:
    """The value as `tp`, or raise TypeError."""
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str and isinstance(value, str) and value.strip():
        return value.strip()
    raise TypeError


def coerce(key: str, value: Any, where: str = "spec") -> Any:
    """One spec value, checked against its RunConfig field's type."""
    name = OPTION_FIELDS.get(key, key)
    tp = _field_types()[name]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):  # optional settings: X | None
        tp = args[0]
    try:
        if typing.get_origin(tp) is list:
            item = typing.get_args(tp)[0]
            if isinstance(value, str):
                value = [v for v in value.split(",") if v.strip()]
            elif not isinstance(value, list):
                value = [value]
            return [_scalar(v, item) for v in value]
        return _scalar(value, tp)
    except TypeError:
        raise SpecError(f"{where}: `{key}` must be {_describe(tp)}, got {value!r}") from None


def normalise(raw: dict[str, Any], where: str = "spec") -> dict[str, Any]:
    """Spec keys -> RunConfig fields, each value checked."""
    known = spec_keys()
    out: dict[str, Any] = {}
    for key, value in raw.items():
        key = key.replace("-", "_")
        if key not in known:
            shown = key if key.isprintable() else repr(key)
            raise SpecError(f"{where}: unknown key `{shown}` (known keys: {', '.join(known)})")
        out[OPTION_FIELDS.get(key, key)] = coerce(key, value, where)
    return out


def load_spec(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except OSError as exc:  # a folder, no permission
        raise SpecError(f"{path}: cannot read the spec ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}), so not TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    return normalise(raw, str(path))


def _check(config: RunConfig) -> None:
    from evalhouse.vocabulary import ARM_CODES as ARMS

    from .problems import KINDS

    bad_arms = [a for a in config.arms if a not in ARMS]
    if bad_arms:
        raise SpecError(f"unknown arm(s) {', '.join(bad_arms)}; arms are {', '.join(ARMS)}")
    bad_kinds = [k for k in config.kinds if k not in KINDS]
    if bad_kinds:
        raise SpecError(f"unknown kind(s) {', '.join(bad_kinds)}; known kinds: {', '.join(sorted(KINDS))}")
    for option, value in (
        ("n", config.n),
        ("concurrency", config.concurrency),
        ("samples", config.samples),
        ("max-attempts", config.max_attempts),
        ("checkpoint-every", config.checkpoint_every),
        ("exec-workers", config.exec_workers),
    ):
        if value < 1:
            raise SpecError(f"--{option} must be at least 1, got {value}")
    for option, value in (
        ("timeout", config.timeout_s),
        ("requests-per-minute", config.requests_per_minute),
        ("tokens-per-minute", config.tokens_per_minute),
        ("max-tokens", config.max_tokens),
    ):
        if value is not None and value <= 0:
            raise SpecError(f"--{option} must be positive, got {value}")
    for option, values in (
        ("model", config.models),
        ("kinds", config.kinds),
        ("digits", config.digits),
        ("seeds", config.seeds),
        ("arms", config.arms),
    ):
        if not values:
            raise SpecError(f"--{option} is empty")


def make_config(spec: dict[str, Any], flags: dict[str, Any]) -> RunConfig:
    """Spec values, overridden by every flag that was given (not None)."""
    merged = {**spec, **{k: v for k, v in flags.items() if v is not None}}
    missing = [k for k in REQUIRED if k not in merged]
    if missing:
        names = ", ".join("--model" if m == "models" else f"--{m}" for m in missing)
        raise SpecError(f"missing {names} (give them as flags or in --spec)")
    config = RunConfig(**merged)
    _check(config)
    return config
