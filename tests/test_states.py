"""Every command against every warehouse state: it works, or it ends in one `Error:` line saying what is
missing and what to run; never a traceback.

The states (tests/states.py) are built once per session with the real commands; each test runs one
command in a private copy of one state, from the state's folder, as a user would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SHARED
from .states import STATES, build_states, copy_state

pytestmark = pytest.mark.slow

LEGACY_CSV = (
    SHARED / "realdata/toolproj/src/exps_performance/deepseek2_smoke_again/run_20250924_005007_results_seed_0.csv"
)
METRICS_CSV = Path(__file__).resolve().parent.parent / "examples" / "hubris_models.csv"
PLAN = ["--model", "synthetic/atlas-large", "--kinds", "add", "--digits", "2", "--n", "2", "--arms", "nl"]

# command -> its arguments ({url}: the healthy loopback endpoint; {out}: a scratch folder)
COMMANDS = {
    "ingest run": ["ingest", "run", "--base-url", "{url}", *PLAN, "--no-progress"],
    "ingest plan": ["ingest", "plan", "--base-url", "{url}", *PLAN],
    "ingest import": ["ingest", "import", str(LEGACY_CSV), "--model", "deepseek-ai/deepseek-coder-7b-instruct-v1.5"],
    "ingest metrics": ["ingest", "metrics", str(METRICS_CSV)],
    "build": ["build"],
    "regrade": ["regrade", "--quiet"],
    "analyze mixedlm": [
        "analyze",
        "mixedlm",
        "--from",
        "marts.model_metrics",
        "--formula",
        "value ~ is_flagship + (1|lab)",
    ],
    "analyze mixedlm binomial": [
        "analyze",
        "mixedlm",
        "--from",
        "marts.acc_model_arm_instance",
        "--family",
        "binomial",
        "--formula",
        "cbind(n_correct, n - n_correct) ~ 1 + (1|problem_id)",
    ],
    "analyze lab-effects": ["analyze", "lab-effects", "--metric", "hubris"],
    "analyze code-vs-nl": ["analyze", "code-vs-nl", "--n-boot", "100"],
    "analyze figures": ["analyze", "figures", "--out", "{out}/figures"],
    "analyze all": ["analyze", "all", "--out", "{out}/analysis", "--n-boot", "100"],
    "problems generate": ["problems", "generate", "--kinds", "add", "--n", "2"],
    "problems kinds": ["problems", "kinds"],
    "problems show": ["problems", "show", "add"],
    "rerun": ["rerun", "--quiet"],
    "status": ["status"],
    "validate": ["validate"],
    "report": ["report", "--n-boot", "100", "--out", "{out}/report.html"],
    "export eee": ["export", "eee", "--out", "{out}/eee"],
    "repair": ["repair", "--quiet"],
}

OK = "works"
NO_WAREHOUSE = "Error: no warehouse at"
RESPONSES = (
    "collect (`evalhouse ingest run …`) or import (`evalhouse ingest import …`) responses, then run `evalhouse build`"
)
METRICS = "load per-model metrics (`evalhouse ingest metrics FILE.csv`), then run `evalhouse build`"
NO_SPECS = "Error: no experiment specs (*.toml) in"
CHECKS_FAILED = "checks passed; failed: counts, coverage"  # validate's own verdict (exit 1), not an error
ALL_OK = dict.fromkeys(STATES, OK)


def _nothing(absent: str, empty: str, failed: str | None = None, single: str = OK) -> dict[str, str]:
    return {"absent": absent, "empty": empty, "refused": empty, "failed": failed or empty, "single": single}


# command -> state -> OK, or a text the one `Error:` line holds (or, for validate, its verdict)
EXPECTED = {
    "ingest run": ALL_OK,
    "ingest plan": ALL_OK,
    "ingest import": ALL_OK,
    "ingest metrics": ALL_OK,
    "build": ALL_OK,
    "regrade": ALL_OK,
    "analyze mixedlm": _nothing(
        NO_WAREHOUSE, f"Error: marts.model_metrics has no rows; {METRICS}", single="'lab' has 1"
    ),
    "analyze mixedlm binomial": _nothing(NO_WAREHOUSE, f"Error: marts.acc_model_arm_instance has no rows; {RESPONSES}"),
    "analyze lab-effects": _nothing(
        NO_WAREHOUSE,
        f"Error: marts.model_metrics has no metrics; {METRICS}",
        single="Error: is_flagship must take the values 0 and 1 (has 1)",
    ),
    "analyze code-vs-nl": _nothing(
        NO_WAREHOUSE,
        f"Error: marts.acc_model_arm_instance has no answered responses; {RESPONSES}",
        single="Error: no responses in arm 'code' (arms: nl); collect it (`evalhouse ingest run … --arms nl,sim,controlsim,code`)",
    ),
    "analyze figures": _nothing(NO_WAREHOUSE, "Error: nothing to draw: the warehouse has no graded responses"),
    "analyze all": _nothing(NO_WAREHOUSE, "Error: nothing to analyse (code_vs_nl: no graded responses;"),
    "problems generate": ALL_OK,
    "problems kinds": ALL_OK,
    "problems show": ALL_OK,
    "rerun": {"absent": NO_SPECS, "empty": NO_SPECS, "refused": "unknown model id(s)", "failed": OK, "single": OK},
    "status": ALL_OK,
    "validate": _nothing(NO_WAREHOUSE, "Error: nothing to validate: ", failed=CHECKS_FAILED),
    "report": _nothing(NO_WAREHOUSE, "Error: nothing to report: ", failed=OK),
    "export eee": _nothing(NO_WAREHOUSE, "Error: nothing to export: "),
    "repair": ALL_OK,
}


@pytest.fixture(scope="session")
def healthy(tmp_path_factory):
    """The loopback endpoint the states' specs and the collecting commands ask."""
    from evalhouse.synthetic import ServerConfig, SyntheticServer

    with SyntheticServer(ServerConfig(problems=tmp_path_factory.mktemp("no-problems"))) as server:
        yield server


@pytest.fixture(scope="session")
def states(tmp_path_factory, healthy):
    return build_states(tmp_path_factory.mktemp("states"), healthy.url)


def test_every_command_has_an_expected_outcome_in_every_state():
    """The matrix covers every command `evalhouse --help` lists (and every subcommand) in every state."""
    import click

    from evalhouse.cli import COMMANDS as TOP
    from evalhouse.cli import main

    ctx = click.Context(main)
    listed = set()
    for name in TOP:
        command = main.get_command(ctx, name)
        subs = getattr(command, "commands", None)
        listed |= {f"{name} {sub}" for sub in subs} if subs else {name}
    listed -= {"synthetic serve"}  # serves until stopped: test_synthetic_serve_starts_in_every_state
    assert listed == set(COMMANDS) - {"analyze mixedlm binomial"}
    assert all(set(EXPECTED[c]) == set(STATES) for c in COMMANDS)


@pytest.mark.parametrize("state_name", STATES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_in_state(command, state_name, states, healthy, tmp_path, monkeypatch):
    """The command works, or ends in one `Error:` line naming what is missing and what to run; no traceback."""
    state = copy_state(states[state_name], tmp_path / "project")
    monkeypatch.chdir(state.root)
    args = [a.format(url=healthy.url, out=tmp_path / "out") for a in COMMANDS[command]]
    if command in ("rerun", "status", "validate", "report"):
        args += ["--experiments", str(state.experiments)]
    result = state.invoke(*args)
    out = result.output
    assert "Traceback" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    expected = EXPECTED[command][state_name]
    if expected == OK:
        assert result.exit_code == 0 and not errors, out
    elif expected == CHECKS_FAILED:
        assert result.exit_code == 1 and not errors and out.rstrip().endswith(expected), out
    else:
        assert result.exit_code != 0, out
        assert len(errors) == 1 and expected in errors[0], out


@pytest.mark.parametrize("state_name", STATES)
def test_synthetic_serve_starts_in_every_state(state_name, states, tmp_path):
    """`synthetic serve` listens whatever the data folder holds, and Ctrl-C ends it quietly (exit 0)."""
    state = copy_state(states[state_name], tmp_path / "project")
    port_file = tmp_path / "port"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "evalhouse"),
            "synthetic",
            "serve",
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        cwd=state.root,
        env={**os.environ, **state.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert port_file.exists(), server.communicate(timeout=10)
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0 and "Traceback" not in out + err, err
    assert "synthetic endpoint listening on http://127.0.0.1:" in err


def test_readme_names_every_command_and_what_goes_wrong():
    """README's command table names every command `evalhouse --help` lists; its failure section names repair."""
    from evalhouse.cli import COMMANDS as TOP

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = text[text.index("## Commands\n") : text.index("\n## ", text.index("## Commands\n") + 1)]
    assert {name for name in TOP if f"`evalhouse {name}" not in table and f"`{name}`" not in table} == set()
    trouble = text[text.index("## When something goes wrong\n") :]
    assert "evalhouse repair" in trouble and "data/quarantined-shards/" in trouble
