"""Experiment specs: a TOML file whose keys are `ingest run`'s long options with `_` for `-`.

A spec makes a run reproducible; flags given beside it override it.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from .collector import RunConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class SpecError(Exception):
    pass


LIST_KEYS = {"models": str, "kinds": str, "digits": int, "seeds": int, "arms": str}
ALIASES = {"model": "models"}  # the option is --model (repeatable); the spec may say model or models


def _as_list(key: str, value: Any, kind: type) -> list[Any]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise SpecError(f"`{key}` must be a list, got {type(value).__name__}")
    try:
        return [kind(v.strip() if isinstance(v, str) else v) for v in value]
    except (TypeError, ValueError):
        raise SpecError(f"`{key}` must be a list of {kind.__name__}") from None


def normalise(raw: dict[str, Any], where: str = "spec") -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = ALIASES.get(key.replace("-", "_"), key.replace("-", "_"))
        if name not in fields:
            raise SpecError(f"{where}: unknown key `{key}` (known: {', '.join(sorted(fields | set(ALIASES)))})")
        out[name] = _as_list(key, value, LIST_KEYS[name]) if name in LIST_KEYS else value
    return out


def load_spec(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    return normalise(raw, str(path))


def make_config(spec: dict[str, Any], flags: dict[str, Any]) -> RunConfig:
    """Spec values, overridden by every flag that was given (not None)."""
    merged = {**spec, **{k: v for k, v in flags.items() if v is not None}}
    missing = [k for k in ("models", "kinds", "digits", "n") if k not in merged]
    if missing:
        raise SpecError("missing " + ", ".join(f"--{m.rstrip('s') if m == 'models' else m}" for m in missing)
                        + " (give them as flags or in --spec)")
    from .prompts import ARMS
    from .problems import KINDS

    bad_arms = [a for a in merged.get("arms", ARMS) if a not in ARMS]
    if bad_arms:
        raise SpecError(f"unknown arm(s) {', '.join(bad_arms)}; arms are {', '.join(ARMS)}")
    bad_kinds = [k for k in merged["kinds"] if k not in KINDS]
    if bad_kinds:
        raise SpecError(f"unknown kind(s) {', '.join(bad_kinds)}; known kinds: {', '.join(sorted(KINDS))}")
    if int(merged["n"]) < 1:
        raise SpecError("--n must be at least 1")
    if int(merged.get("concurrency", 1)) < 1:
        raise SpecError("--concurrency must be at least 1")
    return RunConfig(**merged)
