"""Shared fixtures: a throwaway working folder, the loopback endpoint, a small built warehouse."""

from __future__ import annotations

import pytest

from evalhouse.config import Paths

from .project import REPO, paths_in, selected

SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def shared_dbt_state(tmp_path_factory):
    """One dbt target folder for the whole session, so builds after the first reuse dbt's partial parse."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALHOUSE_DBT_STATE", str(tmp_path_factory.mktemp("dbt-state")))
    yield
    mp.undo()


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Paths:
    """A private data folder and warehouse, selected through the environment as a user would."""
    p = paths_in(tmp_path)
    monkeypatch.setenv("EVALHOUSE_DATA", str(p.data))
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(p.warehouse))
    monkeypatch.chdir(REPO)
    return p


@pytest.fixture
def server(workdir):
    from evalhouse.synthetic import ServerConfig, SyntheticServer

    with SyntheticServer(ServerConfig(problems=workdir.problems)) as s:
        yield s


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory):
    """Collected from the loopback endpoint (3 models, 2 labs, 4 arms, 2 seeds) and built with dbt, once."""
    from evalhouse.build import build
    from evalhouse.ingest.collector import RunConfig, collect
    from evalhouse.synthetic import ServerConfig, SyntheticServer

    root = tmp_path_factory.mktemp("small")
    p = paths_in(root)
    with selected(p), SyntheticServer(ServerConfig(problems=p.problems)) as s:
        config = RunConfig(
            models=["synthetic/atlas-large", "synthetic/atlas-mini", "synthetic/boreal-lite"],
            kinds=["add", "sub", "mul", "lcs", "knap", "rod"],
            digits=[2, 4],
            n=3,
            seeds=[0, 1],
            base_url=s.url,
            concurrency=16,
            progress=False,
            checkpoint_every=100,
        )
        collect(config, p, api_key=None)
        build(p)
        yield p


from .ops_fixtures import ops_project  # noqa: E402,F401  (session fixture of the ops and report tests)
