"""Where evalhouse keeps things, resolved once from the environment.

Every path is relative to the working folder unless an environment variable says otherwise
(see `../shared/CONTRACT.md`, "Places and settings").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
API_KEY_ENV = ("EVALHOUSE_API_KEY", "OPENROUTER_API_KEY")

# The source checkout (holds dbt_project.yml, models/, seeds/) when installed editable.
SOURCE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Paths:
    """The folders and files one evalhouse working folder uses."""

    data: Path
    warehouse: Path
    # EVALHOUSE_DATA as given when it names object storage (s3://bucket/prefix): the collector publishes
    # its shards there and `evalhouse build` reads them; `data` is then the local folder for everything
    # else (journal, run manifests, logs, outputs).
    data_uri: str | None = None

    def stored(self, folder: Path) -> Path | str:
        """Where the shards of `folder` (under `data`) are stored: that folder, or its twin in the bucket."""
        if self.data_uri is None:
            return folder
        return f"{self.data_uri}/{folder.relative_to(self.data).as_posix()}"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def responses(self) -> Path:
        return self.raw / "responses"

    @property
    def problems(self) -> Path:
        return self.raw / "problems"

    @property
    def imports(self) -> Path:
        return self.raw / "imports"

    @property
    def quarantine(self) -> Path:
        return self.raw / "quarantine"

    @property
    def quarantined_shards(self) -> Path:
        """Unreadable shards `evalhouse repair` set aside: outside raw/, so no reader sees them."""
        return self.data / "quarantined-shards"

    @property
    def metrics(self) -> Path:
        return self.raw / "metrics"

    @property
    def verdicts(self) -> Path:
        return self.raw / "verdicts"

    @property
    def outputs(self) -> Path:
        """Analysis outputs (JSON, LaTeX, figures)."""
        return self.data / "outputs"

    @property
    def logs(self) -> Path:
        return self.data / "logs"

    @property
    def spark_warehouse(self) -> Path:
        """The Spark target's tables and metastore: beside the DuckDB file unless EVALHOUSE_SPARK_WAREHOUSE says."""
        override = os.environ.get("EVALHOUSE_SPARK_WAREHOUSE")
        return Path(override).absolute() if override else self.warehouse.parent / "spark"


def paths() -> Paths:
    """Resolve the data folder and warehouse file from the environment, made absolute."""
    given = os.environ.get("EVALHOUSE_DATA", "data")
    warehouse = Path(os.environ.get("EVALHOUSE_WAREHOUSE", "warehouse/evalhouse.duckdb")).absolute()
    if "://" in given:
        return Paths(data=Path("data").absolute(), warehouse=warehouse, data_uri=given.rstrip("/"))
    return Paths(data=Path(given).absolute(), warehouse=warehouse)


def api_key() -> str | None:
    """The provider key, from the environment only (never from files or flags)."""
    for name in API_KEY_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def dbt_project_dir() -> Path:
    """The dbt project: the working folder when it holds one, else the source checkout."""
    here = Path.cwd()
    if (here / "dbt_project.yml").exists():
        return here
    return SOURCE_ROOT
