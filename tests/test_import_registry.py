"""The model registry seed covers every model named in the shared legacy data and the project's seed documents."""

from __future__ import annotations

import csv
import json
import re

import pytest

from evalhouse.registry import lookup, resolve

from .conftest import SHARED

TOOLPROJ = SHARED / "realdata" / "toolproj"
# Named in the legacy README (§1, §3, §4) for files that were withheld or never copied.
README_MODELS = [
    "openai/gpt-5.4",
    "gpt-4o",
    "gpt-4o-mini",
    "anthropic/claude-sonnet-4",
    "claude-haiku-4.5",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "llama-4-scout",
    "mistral-medium-3.1",
    "qwq-32b",
    "grok-code-fast-1",
    "qwen3-coder",
    "Claude Opus 4.6",
    "Claude Haiku 4.5",
    "Gemini 2.5 Pro",
    "deepseek-coder-7b",
    "gemma-2-9b-it",
    "deepseek-ai/deepseek-coder-7b-instruct-v1.5",
    "google/gemma-2-9b-it",
    "qwen-2.5-coder-32b-instruct",
    "qwen-2.5-72b",
    "phi-4",
    "olmo-2-32b",
    "qwen3-coder-30b",
    "ministral-14b-2512",
]
GROUP_LABELS = re.compile(r"^(O\(.*\)|NP-hard|Total|all)$")


def _names_in_shared_data() -> set[str]:
    names = set()
    for path in TOOLPROJ.rglob("res.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            names.add(json.loads(line)["model"])
    for path in TOOLPROJ.rglob("*.csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                names.update(row[c] for c in ("model", "model_label", "group", "model_dir") if row.get(c))
    return {n for n in names if not GROUP_LABELS.match(n)}


def _names_in_seed_documents() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (SHARED / "seeds").iterdir())
    ids = set(re.findall(r"\b(?:mistralai|google|openai|anthropic|meta-llama|qwen|deepseek|x-ai)/[a-z0-9.\-]+", text))
    labels = set(re.findall(r'\("([A-Z][^"]+)", "[A-Za-z]+", "(?:flagship|budget|reasoning)"', text))
    return ids | labels


@pytest.mark.parametrize("name", sorted(_names_in_shared_data() | set(README_MODELS) | _names_in_seed_documents()))
def test_every_model_resolves_to_a_registered_id(name):
    """Each model id, display name or alias used anywhere resolves to a registry entry with lab and category."""
    model = resolve(name)
    assert model is not None, f"{name!r} is not in seeds/model_registry.csv"
    entry = lookup(model)
    assert entry.lab and entry.category in {"flagship", "budget", "reasoning"}
