"""Pre-flight checks, the cost estimate (`ingest plan`) and the budget cap (`ingest run --max-cost`)."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.ingest.budget import Budget, CapReached
from evalhouse.ingest.endpoint import Price
from evalhouse.ingest.providers.openai_chat import parse_models
from evalhouse.ingest.reply import Completion
from evalhouse.synthetic import CATALOG

from .collector_kit import CLI, endpoint, stored

MODEL = "synthetic/atlas-large"
KEY = "sk-or-v1-PLAN-never-print-me-0123456789abcdef0123456789abcdef01234567"
ASK = ["--model", MODEL, "--kinds", "add", "--digits", "2", "--n", "10", "--arms", "nl,sim", "--max-tokens", "256"]


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch):
    for name in ("EVALHOUSE_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str, key: str | None = None):
    return CliRunner().invoke(main, list(args), env={"EVALHOUSE_API_KEY": key} if key else None)


def test_openrouter_prices_are_read_from_decimal_strings():
    """`pricing` strings become USD per token; a variant suffix is priced as its base id; -1 means no price."""
    models = parse_models(
        {
            "data": [
                {"id": "a/x", "pricing": {"prompt": "0.0000008", "completion": "0.0000032", "request": "0.001"}},
                {"id": "openrouter/auto", "pricing": {"prompt": "-1", "completion": "-1"}},
                {"id": "b/y"},
            ]
        }
    )
    assert models == {"a/x": Price(8e-7, 3.2e-6, 0.001), "openrouter/auto": None, "b/y": None}


def test_the_budget_waits_for_requests_in_flight_and_stops_only_when_nothing_can_fit():
    """A reservation past the cap waits for one in flight to settle at its real cost; with nothing in flight
    it is refused for good; a lost answer counts its whole reservation, an HTTP error nothing."""
    prices = {"m": Price(prompt=0.0, completion=1.0)}  # $1 a completion token: the bound is max_tokens dollars

    async def scenario() -> list:
        budget = Budget(cap=10.0, spent_before=1.0, prices=prices, max_tokens=4)
        first = await budget.reserve("m", 0)
        second = await budget.reserve("m", 0)  # 1 + 4 + 4 = 9 <= 10
        waiting = asyncio.ensure_future(budget.reserve("m", 0))
        await asyncio.sleep(0)
        assert not waiting.done()
        budget.settle("m", first, Completion("x", "stop", 0, 1, None, None, 1.0), answered=True)  # costs $1
        third = await waiting  # 2 + 4 + 4 = 10 <= 10
        budget.settle("m", second, None, answered=True)  # an HTTP error: $0
        budget.settle("m", third, None, answered=False)  # lost in transit: the whole $4
        fourth = await budget.reserve("m", 0)  # 6 + 4 = 10 <= 10
        budget.settle("m", fourth, None, answered=False)
        with pytest.raises(CapReached):
            await budget.reserve("m", 0)  # 10 + 4 > 10 with nothing in flight
        return [budget.spent, budget.reserved, budget.reached]

    assert asyncio.run(scenario()) == [9.0, 0.0, True]


def test_plan_counts_what_is_left_prices_it_and_sends_no_completion(workdir, tmp_path):
    """The plan (from a spec, flags overriding) lists requests per model × arm at the listed prices;
    after part is stored it counts only the rest and estimates completions from the stored mean."""
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'model = ["{MODEL}", "synthetic/boreal-lite"]\nkinds = ["add"]\ndigits = [2]\nn = 4\n'
        'arms = ["nl", "sim", "controlsim", "code"]\nmax_tokens = 256\n'
    )
    with endpoint(workdir) as server:
        base = ["--spec", str(spec), "--base-url", server.openrouter_url]
        result = invoke("ingest", "plan", *base)
        assert result.exit_code == 0, result.output
        row = next(
            line.split() for line in result.stdout.splitlines() if line.startswith(f"{MODEL}  ") and " nl " in line
        )
        assert row[2:6] == ["4", row[3], "1,024", "max_tokens"] and row[-2:] == ["2/8", row[-1]]
        prompt_tokens = float(row[3].replace(",", ""))
        assert row[-1] == f"${prompt_tokens * 2e-6 + 1024 * 8e-6:.4f}"
        assert "code arm: 8 sandbox runs" in result.stdout and "key: accepted" in result.stdout
        assert invoke("ingest", "run", *base, "--arms", "nl", "--no-progress").exit_code == 0
        answered = server.stats["answered"]
        again = invoke("ingest", "plan", *base)
    assert answered == 8 and server.stats["requests"] == 8  # the plans sent no completion
    nl = [line for line in again.stdout.splitlines() if " nl " in line]
    assert all(line.split()[2] == "0" and "mean of 4" in line for line in nl), again.stdout
    assert "already stored: 8 responses" in again.stdout


def test_an_unknown_model_stops_plan_and_run_and_names_it(workdir):
    """A model id the endpoint does not list: plan and run exit 1 naming it (with the closest id); nothing sent."""
    with endpoint(workdir) as server:
        args = [
            "--base-url",
            server.openrouter_url,
            "--model",
            MODEL,
            "--model",
            "synthetic/atlas-lrge",
            "--kinds",
            "add",
            "--digits",
            "2",
            "--n",
            "2",
        ]
        plan = invoke("ingest", "plan", *args)
        run = invoke("ingest", "run", *args, "--no-progress")
    for result in (plan, run):
        assert result.exit_code == 1
        assert (
            "unknown model id(s)" in result.stderr
            and "synthetic/atlas-lrge (did you mean synthetic/atlas-large?)" in result.stderr
        )
    assert server.stats["requests"] == 0 and stored(workdir) == []


def test_a_rejected_key_stops_plan_and_run_before_any_request(workdir):
    """A key the endpoint refuses (401 on /key): one Error line, the echoed key scrubbed, no completion sent."""
    with endpoint(workdir, expect_key=KEY) as server:
        args = ["--base-url", server.openrouter_url, *ASK]
        plan = invoke("ingest", "plan", *args, key=KEY[:-1])
        run = invoke("ingest", "run", *args, "--no-progress", key=KEY[:-1])
        missing = invoke("ingest", "plan", *args)
        accepted = invoke("ingest", "plan", *args, key=KEY)
    for result in (plan, run):
        assert result.exit_code == 1 and "refused the key (HTTP 401" in result.stderr and "[redacted]" in result.stderr
        assert KEY[:-1] not in result.output
    assert missing.exit_code == 1 and "no key is set: export EVALHOUSE_API_KEY" in missing.stderr
    assert accepted.exit_code == 0 and KEY not in accepted.output
    assert server.stats["requests"] == 0 and stored(workdir) == []


def test_too_little_credit_is_refused_unless_a_cap_keeps_the_run_under_it(workdir):
    """An estimate above the key's credit left: plan and run exit 1 saying both figures; a lower cap passes."""
    with endpoint(workdir, credit=0.05, usage=0.04) as server:
        args = ["--base-url", server.openrouter_url, *ASK]
        plan = invoke("ingest", "plan", *args)
        run = invoke("ingest", "run", *args, "--no-progress")
        capped = invoke("ingest", "plan", *args, "--max-cost", "0.005")
    for result in (plan, run):
        assert result.exit_code == 1
        assert "exceeds the credit left on the key ($0.0100)" in result.stderr, result.stderr
    assert capped.exit_code == 0 and "$0.0050 left to spend" in capped.stdout
    assert server.stats["requests"] == 0 and stored(workdir) == []


@pytest.mark.parametrize("report_cost", [True, False], ids=["reported-cost", "tokens-only"])
def test_a_cap_reached_mid_run_keeps_what_was_paid_for_and_resumes_to_completion(workdir, report_cost):
    """--max-cost stops starting requests before the cap (exit 3, how to go on); every answer that came back
    is stored, spend stays under the cap; a higher cap resumes without asking anything twice."""
    env = {**os.environ, "EVALHOUSE_DATA": str(workdir.data), "EVALHOUSE_WAREHOUSE": str(workdir.warehouse)}
    price = CATALOG[MODEL]
    with endpoint(workdir, latency_ms=20, report_cost=report_cost) as server:
        args = [*CLI, "ingest", "run", "--base-url", server.openrouter_url, *ASK, "--concurrency", "4", "--no-progress"]
        first = subprocess.run([*args, "--max-cost", "0.008"], env=env, capture_output=True, text=True)
        rows = stored(workdir, "response_id, prompt_tokens, completion_tokens")
        answered_at_cap = server.stats["answered"]
        second = subprocess.run([*args, "--max-cost", "1"], env=env, capture_output=True, text=True)
        answered = server.stats["answered"]
    assert first.returncode == 3, first.stdout + first.stderr
    assert "run the same command with a higher --max-cost" in first.stderr
    assert 0 < len(rows) < 20 and len(rows) == answered_at_cap  # nothing in flight was lost
    assert sum(price.cost(p, c) for _, p, c in rows) <= 0.008
    assert second.returncode == 0, second.stdout + second.stderr
    ids = [r[0] for r in stored(workdir, "response_id")]
    assert len(ids) == len(set(ids)) == 20 and answered == 20  # resumed, nothing asked twice


def test_an_endpoint_without_openrouter_routes_is_checked_for_what_it_can(workdir):
    """vLLM/Ollama-like (no /key, no prices): the plan says what it could not check and goes on with the
    model list; a cost cap, which needs prices, is refused."""
    with endpoint(workdir) as server:
        args = ["--base-url", server.url, *ASK]
        plan = invoke("ingest", "plan", *args)
        unknown = invoke("ingest", "plan", *args, "--model", "synthetic/nope")
        capped = invoke("ingest", "plan", *args, "--max-cost", "1")
    assert plan.exit_code == 0, plan.output
    assert "has no /key route (not OpenRouter): key and credit not checked" in plan.stdout
    assert "unknown model id(s)" in unknown.stderr and unknown.exit_code == 1
    assert capped.exit_code == 1 and "--max-cost needs a price for every model" in capped.stderr
    assert server.stats["requests"] == 0


def test_plan_takes_every_option_of_run_that_defines_a_collection():
    """`ingest plan` and `ingest run` share one set of options; only run's own (run id, progress, pre-flight) differ."""
    from evalhouse.cli.ingest import plan_cmd, run_cmd

    names = {cmd: {o for p in cmd.params for o in p.opts} for cmd in (plan_cmd, run_cmd)}
    assert names[run_cmd] - names[plan_cmd] == {"--run-id", "--progress", "--preflight"}
    assert names[plan_cmd] <= names[run_cmd] and "--max-cost" in names[plan_cmd]
