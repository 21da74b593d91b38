"""The model registry (dbt seed `model_registry`), read in Python to resolve names at load time."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .config import SOURCE_ROOT, dbt_project_dir


@dataclass(frozen=True)
class RegisteredModel:
    model: str
    display_name: str
    lab: str
    category: str
    open_weights: bool


def registry_path() -> Path:
    path = dbt_project_dir() / "seeds" / "model_registry.csv"
    return path if path.exists() else SOURCE_ROOT / "seeds" / "model_registry.csv"


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[dict[str, RegisteredModel], dict[str, str]]:
    models, names = {}, {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            entry = RegisteredModel(
                row["model"], row["display_name"], row["lab"], row["category"], row["open_weights"].lower() == "true"
            )
            models[entry.model] = entry
            for name in [entry.model, entry.display_name, *filter(None, row.get("aliases", "").split("|"))]:
                names.setdefault(name.strip().lower(), entry.model)
    return models, names


def resolve(name: str) -> str | None:
    """The model id for an id, display name or alias (case-insensitive), or None if unknown."""
    _models, names = _load(registry_path())
    return names.get(name.strip().lower())


def lookup(model_id: str) -> RegisteredModel | None:
    return _load(registry_path())[0].get(model_id)
