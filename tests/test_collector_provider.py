"""The OpenAI-compatible provider: its request bodies, its reading of answers, errors and Retry-After."""

from __future__ import annotations

import email.utils
import json

import pytest

from evalhouse.ingest import errors
from evalhouse.ingest.collector import RunConfig
from evalhouse.ingest.errors import (
    EmptyAnswer,
    FatalError,
    MalformedBody,
    ProviderError,
    RateLimited,
    RunStopper,
    ServerError,
)
from evalhouse.ingest.provider import Provider
from evalhouse.ingest.providers import PROVIDERS, make_provider
from evalhouse.ingest.providers.openai_chat import OpenAIChat, parse_retry_after
from evalhouse.ingest.reply import Reply
from evalhouse.vocabulary import ERROR_CLASSES

CHAT = OpenAIChat()


def _ok(**choice_extra) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", "content": '{"answer": 5}'}, "finish_reason": "stop"}
    choice.update(choice_extra)
    return {
        "id": "gen-123",
        "model": "mistralai/codestral-2508-dated",
        "provider": "Mistral",
        "choices": [choice],
        "usage": {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
            "cost": 0.00042,
            "completion_tokens_details": {"reasoning_tokens": 3},
        },
    }


def _parse(body, status=200, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return CHAT.parse_answer(Reply(status, headers or {}, raw, 12.5))


def test_request_body_is_exact_and_adds_routing_only_when_asked():
    """The request body holds model, messages, temperature, max_tokens, seed, and `provider` only when set."""
    messages = [{"role": "user", "content": "hi"}]
    assert CHAT.build_request("m", messages, seed=3, temperature=0.0, max_tokens=64) == {
        "model": "m",
        "messages": messages,
        "temperature": 0.0,
        "max_tokens": 64,
        "seed": 3,
    }
    config = RunConfig(["m"], ["add"], [2], 1, require_parameters=True, allow_fallbacks=False)
    routed = make_provider(config).build_request("m", messages, seed=3, temperature=0.0, max_tokens=64)
    assert routed == {
        "model": "m",
        "messages": messages,
        "temperature": 0.0,
        "max_tokens": 64,
        "seed": 3,
        "provider": {"require_parameters": True, "allow_fallbacks": False},
    }


def test_url_and_headers_carry_the_key_only_in_the_authorization_header():
    """Requests go to {base}/chat/completions; the key is a bearer header, and no header without a key."""
    assert CHAT.completions_url("http://h/v1/") == "http://h/v1/chat/completions"
    assert CHAT.headers("sk-1") == {
        "Content-Type": "application/json",
        "X-Title": "evalhouse",
        "Authorization": "Bearer sk-1",
    }
    assert "Authorization" not in CHAT.headers(None)


def test_every_registered_provider_follows_the_protocol_and_an_unknown_api_is_named():
    """Each registry entry builds a Provider from a RunConfig; an unknown api name lists the known ones."""
    members = [m for m in vars(Provider) if not m.startswith("_")]
    assert {"build_request", "parse_answer", "classify_error", "describe"} <= set(members)
    for name in PROVIDERS:
        provider = make_provider(RunConfig(["m"], ["add"], [2], 1, api=name))
        assert provider.name == name
        assert all(callable(getattr(provider, m)) for m in members), name
    config = RunConfig(["m"], ["add"], [2], 1, api="anthropic-messages")
    with pytest.raises(ValueError, match="unknown api 'anthropic-messages'; known: openai-chat"):
        make_provider(config)


def test_every_error_class_is_in_the_vocabulary():
    """The error tree's classes are the `error_class` names evalhouse.vocabulary defines, and only those."""
    classes, found = [errors.APIError], set()
    while classes:
        cls = classes.pop()
        found.add(cls.error_class)
        classes += cls.__subclasses__()
    assert found == set(ERROR_CLASSES)


def test_success_carries_usage_cost_and_provider_details():
    """Tokens, OpenRouter's cost, reasoning tokens, the served model, generation id and provider are read."""
    c = _parse(_ok(native_finish_reason="end_turn"))
    assert (c.text, c.finish_reason, c.native_finish_reason) == ('{"answer": 5}', "stop", "end_turn")
    assert (c.prompt_tokens, c.completion_tokens, c.reasoning_tokens, c.cost) == (11, 7, 3, 0.00042)
    assert (c.provider_model, c.generation_id, c.provider, c.latency_ms) == (
        "mistralai/codestral-2508-dated",
        "gen-123",
        "Mistral",
        12.5,
    )


def test_content_given_as_parts_is_joined():
    """A list of content parts reads as their text, in order."""
    body = _ok()
    body["choices"][0]["message"]["content"] = [{"type": "text", "text": '{"ans'}, {"type": "text", "text": 'wer": 5}'}]
    assert _parse(body).text == '{"answer": 5}'


def test_a_lone_surrogate_in_the_answer_becomes_storable_text():
    """Content with an unpaired \\ud800 escape is read as UTF-8-safe text (the surrogate becomes "?")."""
    raw = b'{"choices": [{"message": {"content": "{\\"answer\\": \\"\\ud800\\"}"}, "finish_reason": "stop"}]}'
    text = CHAT.parse_answer(Reply(200, {}, raw, 1.0)).text
    assert "ud800" not in text and text.encode("utf-8") == b'{"answer": "?"}'


def test_truncated_answer_is_a_completion_not_an_error():
    """finish_reason `length` comes back as a completion (the grade says truncated), even when empty."""
    body = _ok(finish_reason="length")
    body["choices"][0]["message"] = {"content": "", "reasoning": "thinking for a long time"}
    c = _parse(body)
    assert c.finish_reason == "length" and c.text == "" and c.reasoning == "thinking for a long time"


@pytest.mark.parametrize("content", ["", None])
def test_empty_content_with_a_normal_stop_is_retryable_and_keeps_the_completion(content):
    """Empty content after `stop` raises EmptyAnswer carrying what came back (usage included)."""
    body = _ok()
    body["choices"][0]["message"]["content"] = content
    with pytest.raises(EmptyAnswer) as info:
        _parse(body)
    assert info.value.completion.completion_tokens == 7


@pytest.mark.parametrize(
    "body, error",
    [
        (b'{"id": "gen-1", "choices": [{"message": {"content": "trunc', MalformedBody),
        (b"<html>Bad gateway</html>", MalformedBody),
        ({"id": "gen-1", "choices": []}, MalformedBody),
        ({"id": "gen-1"}, MalformedBody),
        ({"error": {"code": 502, "message": "Provider returned error"}}, ProviderError),
        ({"error": {"message": "no code at all"}}, ProviderError),
        ({"error": {"code": 400, "message": "context length exceeded"}}, FatalError),
    ],
    ids=["cut-json", "html", "no-choices", "no-choices-key", "error-502-in-200", "error-in-200", "error-400-in-200"],
)
def test_malformed_and_error_bodies_in_a_200(body, error):
    """A 200 without a usable answer raises the class that says whether to try again."""
    with pytest.raises(error):
        _parse(body)


def test_choice_finished_with_error_is_a_provider_error():
    """`finish_reason: error` with a choice-level error object is retried as a provider error."""
    with pytest.raises(ProviderError, match="stream ended early"):
        _parse(_ok(finish_reason="error", error={"code": 502, "message": "stream ended early"}))


@pytest.mark.parametrize(
    "status, headers, error, retry_after",
    [
        (429, {"Retry-After": "7"}, RateLimited, 7.0),
        (429, {}, RateLimited, None),
        (503, {"Retry-After": "2"}, ServerError, 2.0),
        (500, {}, ServerError, None),
        (502, {}, ServerError, None),
        (408, {}, ServerError, None),
        (402, {"Retry-After": "30"}, RateLimited, 30.0),
        (402, {}, RunStopper, None),
        (401, {}, RunStopper, None),
        (400, {}, FatalError, None),
        (403, {}, FatalError, None),
        (404, {}, FatalError, None),
    ],
)
def test_status_codes_map_to_the_error_tree(status, headers, error, retry_after):
    """Each status becomes the right error; Retry-After travels with it; 402 is retried only with one."""
    with pytest.raises(error) as info:
        _parse({"error": {"code": status, "message": "nope"}}, status, headers)
    assert type(info.value) is error
    assert info.value.status_code == status and info.value.retry_after == retry_after
    assert "nope" in str(info.value)


def test_classify_error_returns_the_error_with_its_retry_after():
    """classify_error gives (not raises) the error a reply stands for, Retry-After included."""
    error = CHAT.classify_error(Reply(503, {"Retry-After": "2"}, b'{"error": {"code": 503, "message": "busy"}}'))
    assert type(error) is ServerError and error.retry_after == 2.0 and str(error) == "busy"
    flat = CHAT.classify_error(Reply(400, {}, b'{"error": "flat vLLM message", "type": "BadRequestError"}'))
    assert type(flat) is FatalError and str(flat) == "flat vLLM message" and error.error_class == "server_error"


def test_retry_after_reads_seconds_and_http_dates():
    """Retry-After is seconds or an HTTP date (relative to now); nonsense is ignored."""
    now = 1_700_000_000.0
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(30, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_aiohttp_is_the_one_http_library():
    """httpx is neither a dependency nor imported by the collector, the endpoint, the pre-flight or rerun."""
    import subprocess
    import sys
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert not [d for d in pyproject["project"]["dependencies"] if d.startswith("httpx")]
    modules = "evalhouse.cli, evalhouse.ingest.collector, evalhouse.ops.rerun, evalhouse.synthetic.server"
    probe = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'aiohttp')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "'aiohttp'" in loaded and "httpx" not in loaded
