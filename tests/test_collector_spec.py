"""Experiment specs (TOML), flags over specs, and what `ingest run` prints."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.ingest.providers.openai_chat import OpenAIChat
from evalhouse.ingest.spec import SpecError, load_spec, make_config

from .collector_kit import endpoint, stored

SPEC = """
base_url = "http://127.0.0.1:1/v1"
model = ["synthetic/atlas-large", "synthetic/boreal-lite"]
kinds = ["add", "lcs"]
digits = [2, 4]
n = 3
seeds = [0, 1]
arms = ["nl", "sim"]
concurrency = 4
timeout = 30
max_attempts = 3
requests_per_minute = 6000
require_parameters = true
allow_fallbacks = false
provider_order = ["Mistral", "Together"]
"""


def test_spec_keys_are_the_long_options(tmp_path):
    """Every contract key of a spec lands in the run's configuration, `model` and `timeout` included."""
    spec = tmp_path / "exp.toml"
    spec.write_text(SPEC)
    config = make_config(load_spec(spec), {})
    assert config.models == ["synthetic/atlas-large", "synthetic/boreal-lite"]
    assert (config.kinds, config.digits, config.n, config.seeds, config.arms) == (
        ["add", "lcs"],
        [2, 4],
        3,
        [0, 1],
        ["nl", "sim"],
    )
    assert (config.concurrency, config.timeout_s, config.max_attempts, config.requests_per_minute) == (
        4,
        30.0,
        3,
        6000.0,
    )
    assert OpenAIChat.from_config(config).routing == {
        "require_parameters": True,
        "allow_fallbacks": False,
        "order": ["Mistral", "Together"],
    }


def test_flags_override_the_spec(tmp_path):
    """A flag given beside a spec wins; what it does not name comes from the spec."""
    spec = tmp_path / "exp.toml"
    spec.write_text(SPEC)
    config = make_config(load_spec(spec), {"n": 1, "models": ["synthetic/atlas-mini"], "kinds": None})
    assert config.n == 1 and config.models == ["synthetic/atlas-mini"] and config.kinds == ["add", "lcs"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("n = 3\nnn = 4\n", "unknown key `nn`"),
        ('n = "three"\n', "`n` must be an integer, got 'three'"),
        ('digits = [2, "x"]\n', "`digits` must be a list of integers"),
        ('require_parameters = "yes"\n', "`require_parameters` must be true or false"),
        ("n = 3\nkinds = [\n", "not valid TOML"),
    ],
)
def test_a_bad_spec_names_the_file_and_the_key(tmp_path, text, message):
    """Unknown keys, wrong types and broken TOML are refused with the file name and what is wrong."""
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    assert str(spec) in str(info.value) and message in str(info.value)


def test_a_single_model_may_be_a_string_and_missing_options_are_named(tmp_path):
    """`model = "x"` is one model; without kinds, digits or n the error says which are missing."""
    spec = tmp_path / "one.toml"
    spec.write_text('model = "synthetic/atlas-large"\nkinds = "add,sub"\n')
    loaded = load_spec(spec)
    assert loaded["models"] == ["synthetic/atlas-large"] and loaded["kinds"] == ["add", "sub"]
    with pytest.raises(SpecError, match="missing --digits, --n"):
        make_config(loaded, {})


def test_cli_runs_a_spec_with_flags_over_it_and_sends_the_routing_options(workdir, tmp_path):
    """`ingest run --spec` with `--n 1` collects n=1; OpenRouter's provider object reaches every request;
    the summary names stored, errors, tokens, cost, elapsed and rate."""
    spec = tmp_path / "exp.toml"
    spec.write_text(SPEC)
    with endpoint(workdir, record_bodies=True) as server:
        result = CliRunner().invoke(
            main, ["ingest", "run", "--spec", str(spec), "--base-url", server.url, "--n", "1", "--no-progress"]
        )
        bodies = server.bodies
    assert result.exit_code == 0, result.output
    assert len(stored(workdir, "response_id")) == 2 * 2 * 2 * 1 * 2 * 2
    assert bodies and all(
        b["provider"] == {"require_parameters": True, "allow_fallbacks": False, "order": ["Mistral", "Together"]}
        for b in bodies
    )
    assert {b["seed"] for b in bodies} == {0, 1} and all(b["temperature"] == 0.0 for b in bodies)
    for words in (
        "stored 32 of 32 responses",
        "errors (stored as error rows): none",
        "tokens:",
        "cost",
        "responses/s",
        "shards:",
        "log:",
    ):
        assert words in result.output
    manifest = json.loads(next(workdir.responses.rglob("run.json")).read_text())
    assert manifest["status"] == "done" and manifest["config"]["n"] == 1 and manifest["summary"]["done"] == 32


def test_progress_bar_shows_rate_eta_and_errors(workdir):
    """The progress bar on stderr carries the count, rate, ETA and the error count."""
    with endpoint(workdir, faults={"500": 0.5}, seed=1) as server:
        result = CliRunner().invoke(
            main,
            [
                "ingest",
                "run",
                "--base-url",
                server.url,
                "--model",
                "synthetic/atlas-large",
                "--kinds",
                "add",
                "--digits",
                "2",
                "--n",
                "20",
                "--arms",
                "nl",
                "--max-attempts",
                "1",
                "--progress",
            ],
        )
    assert result.exit_code == 0, result.output
    bar = result.stderr
    assert "20/20" in bar and "resp/s" in bar and "<" in bar and "errors=" in bar


def test_every_long_option_of_ingest_run_is_a_spec_key():
    """The spec and the command line name the same settings (`--spec` and `--run-id` name the run, not
    the experiment)."""
    from evalhouse.cli.ingest import run_cmd
    from evalhouse.ingest.spec import spec_keys

    options = {opt.lstrip("-").replace("-", "_") for p in run_cmd.params for opt in p.opts if opt.startswith("--")}
    assert options - {"spec", "run_id"} <= set(spec_keys())
