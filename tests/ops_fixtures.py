"""One operated project, shared by the ops and report tests: some work failed, then `evalhouse rerun` ran.

Built once per session: a spec for two models on the loopback endpoint; one model's cells collected
first from a faulty endpoint with a single attempt (so some are stored as errors); the seed's metrics
loaded; `status` read before the rerun; then `evalhouse rerun` against the healthy endpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from evalhouse.cli import main
from evalhouse.config import Paths

REPO = Path(__file__).resolve().parent.parent
SECRET = "sk-or-v1-evalhouse-test-secret-0123456789abcdef"
SPEC = """\
base_url = "{url}"
model = ["synthetic/atlas-large", "synthetic/boreal-lite"]
kinds = ["add", "lcs"]
digits = [2, 4]
n = 2
seeds = [0, 1]
arms = ["nl", "sim", "controlsim", "code"]
concurrency = 8
checkpoint_every = 50
"""
CELLS = 2 * 2 * 2 * 2 * 2 * 4  # models × kinds × digits × n × seeds × arms


@dataclass
class OpsProject:
    root: Path
    paths: Paths
    experiments: Path
    server: object  # the healthy SyntheticServer, still serving
    env: dict[str, str]
    faulty_errors: int  # responses the faulty endpoint left stored as errors
    status_before: dict
    requests_during_status: int
    rerun: Result

    def invoke(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env={**self.env, **(env or {})})


@pytest.fixture(scope="session")
def ops_project(tmp_path_factory) -> OpsProject:
    from evalhouse.ingest.collector import collect
    from evalhouse.ingest.spec import load_spec, make_config
    from evalhouse.synthetic import ServerConfig, SyntheticServer

    root = tmp_path_factory.mktemp("ops")
    paths = Paths(data=root / "data", warehouse=root / "warehouse" / "evalhouse.duckdb")
    experiments = root / "experiments"
    experiments.mkdir()
    env = {"EVALHOUSE_DATA": str(paths.data), "EVALHOUSE_WAREHOUSE": str(paths.warehouse), "EVALHOUSE_API_KEY": SECRET}
    with SyntheticServer(ServerConfig(problems=paths.problems)) as healthy:
        spec = experiments / "small.toml"
        spec.write_text(SPEC.format(url=healthy.url))
        with SyntheticServer(ServerConfig(problems=paths.problems, faults={"500": 0.3}, seed=3)) as faulty:
            config = make_config(
                load_spec(spec),
                {"base_url": faulty.url, "models": ["synthetic/atlas-large"], "max_attempts": 1, "progress": False},
            )
            _, summary = collect(config, paths, api_key=None)
        project = OpsProject(root, paths, experiments, healthy, env, sum(summary.errors.values()), {}, 0, None)
        assert project.invoke("ingest", "metrics", str(REPO / "examples" / "hubris_models.csv")).exit_code == 0
        before = healthy.stats["requests"]
        status = project.invoke("status", "--json", "--experiments", str(experiments))
        assert status.exit_code == 0, status.output
        project.status_before = json.loads(status.stdout)
        project.requests_during_status = healthy.stats["requests"] - before
        project.rerun = project.invoke("rerun", "--experiments", str(experiments))
        yield project
