"""The warehouse states every command must survive, each built once per session with the real pipeline.

- absent:  no data folder and no warehouse
- empty:   a warehouse built from an empty data folder
- refused: the only run stored nothing (its pre-flight refused an unknown model), then built
- failed:  every response an API error (the endpoint answers 500 and the run makes one attempt), then built
- single:  one model, one arm, one kind (and one digit), with per-model metrics for that one model, then built

A test gets a private copy of its state (`copy_state`), so commands that write (ingest, build, repair,
rerun) never change what the next test sees.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from evalhouse.cli import main
from evalhouse.config import Paths

from .project import paths_in

STATES = ("absent", "empty", "refused", "failed", "single")
MODEL = "synthetic/atlas-large"


@dataclass(frozen=True)
class State:
    """One working folder: the data folder, the warehouse, and the experiment specs beside them."""

    name: str
    root: Path

    @property
    def paths(self) -> Paths:
        return paths_in(self.root)

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def env(self) -> dict[str, str]:
        p = self.paths
        return {"EVALHOUSE_DATA": str(p.data), "EVALHOUSE_WAREHOUSE": str(p.warehouse), "EVALHOUSE_API_KEY": ""}

    def invoke(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env)


def spec_text(url: str, model: str, arms: str = '["nl"]') -> str:
    return (
        f'base_url = "{url}"\nmodel = ["{model}"]\nkinds = ["add"]\ndigits = [2]\nn = 3\nseeds = [0]\n'
        f"arms = {arms}\nconcurrency = 4\nmax_attempts = 1\ntimeout = 5\n"
    )


def build_states(root: Path, healthy_url: str) -> dict[str, State]:
    """Every state under `root`, made with the real commands (ingest run, ingest metrics, build)."""
    from evalhouse.synthetic import ServerConfig, SyntheticServer

    states = {name: State(name, root / name) for name in STATES}
    for state in states.values():
        state.root.mkdir(parents=True)

    empty = states["empty"]
    empty.paths.data.mkdir()
    _ok(empty.invoke("build"))

    refused = states["refused"]
    refused.experiments.mkdir()
    (refused.experiments / "unknown.toml").write_text(spec_text(healthy_url, "synthetic/no-such-model"))
    result = refused.invoke("ingest", "run", "--spec", str(refused.experiments / "unknown.toml"), "--no-progress")
    assert result.exit_code == 1 and "no-such-model" in result.output, result.output
    _ok(refused.invoke("build"))

    failed = states["failed"]
    failed.experiments.mkdir()
    with SyntheticServer(ServerConfig(problems=failed.paths.problems, faults={"500": 1.0})) as broken:
        spec = failed.experiments / "broken.toml"
        spec.write_text(spec_text(broken.url, MODEL, '["nl", "sim", "controlsim", "code"]'))
        _ok(failed.invoke("ingest", "run", "--spec", str(spec), "--no-progress", "--no-preflight"))
    # the spec names the healthy endpoint from now on, so `rerun` has somewhere to ask again
    spec.write_text(spec_text(healthy_url, MODEL, '["nl", "sim", "controlsim", "code"]'))
    _ok(failed.invoke("build"))

    single = states["single"]
    single.experiments.mkdir()
    spec = single.experiments / "single.toml"
    spec.write_text(spec_text(healthy_url, MODEL))
    _ok(single.invoke("ingest", "run", "--spec", str(spec), "--no-progress"))
    metrics = single.root / "metrics.csv"
    metrics.write_text(f"model,lab,is_flagship,hubris\n{MODEL},Atlas,1,0.5\n")
    _ok(single.invoke("ingest", "metrics", str(metrics)))
    _ok(single.invoke("build"))
    return states


def copy_state(state: State, root: Path) -> State:
    """A private copy of `state` under `root` (the data folder, the warehouse, the specs)."""
    target = root / state.name
    if state.root.exists():
        shutil.copytree(state.root, target, symlinks=True)
    else:
        target.mkdir(parents=True)
    return State(state.name, target)


def _ok(result: Result) -> None:
    assert result.exit_code == 0, result.output + repr(result.exception)
