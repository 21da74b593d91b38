"""The command line: help everywhere, one `Error:` line for user mistakes, the main job's commands."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from evalhouse.cli import main

from .conftest import REPO


def _commands(group: click.Group, prefix=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))


def test_help_lists_ingest_build_analyze():
    out = CliRunner().invoke(main, ["--help"]).output
    for name in ("ingest", "build", "analyze"):
        assert name in out


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=" ".join)
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) >= 3


def test_user_mistake_is_one_error_line(workdir):
    """An unknown kind ends in `Error:` and exit 1, without a traceback."""
    result = CliRunner().invoke(main, ["ingest", "run", "--model", "m", "--kinds", "nope", "--digits", "2", "--n", "1"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown kind(s) nope")
    assert "Traceback" not in result.output


def test_missing_warehouse_is_a_clear_error(workdir):
    result = CliRunner().invoke(
        main,
        ["analyze", "mixedlm", "--from", "marts.model_metrics", "--formula", "value ~ is_flagship", "--group", "lab"],
    )
    assert result.exit_code == 1
    assert "no warehouse at" in result.output and "evalhouse build" in result.output


def test_mixedlm_from_csv_writes_contract_json(tmp_path):
    out = tmp_path / "m.json"
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "mixedlm",
            "--from",
            str(REPO / "examples" / "hubris_models.csv"),
            "--formula",
            "hubris ~ is_flagship",
            "--group",
            "lab",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in (
        "n",
        "n_groups",
        "method",
        "fe_params",
        "bse",
        "group_var",
        "resid_var",
        "icc",
        "loglik",
        "reml_loglik",
        "singular",
        "converged",
    ):
        assert key in data
    assert data["n"] == 31 and data["n_groups"] == 11 and data["method"] == "REML"


def test_metrics_then_mixedlm_from_the_warehouse(workdir):
    """`ingest metrics`, `build`, then mixedlm on marts.model_metrics gives lme4's estimate."""
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", "metrics", str(REPO / "examples" / "hubris_models.csv")]).exit_code == 0
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    out = workdir.data / "m.json"
    result = runner.invoke(
        main,
        [
            "analyze",
            "mixedlm",
            "--from",
            "marts.model_metrics",
            "--where",
            "metric = 'hubris'",
            "--formula",
            "value ~ is_flagship",
            "--group",
            "lab",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert abs(data["fe_params"]["is_flagship"] - (-0.4206243)) < 1e-6
