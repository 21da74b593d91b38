"""The wire protocols the collector speaks, by the name `RunConfig.api` (and `--api`) gives.

A new provider is one module here with a class that follows `evalhouse.ingest.provider.Provider` and
has a `from_config(RunConfig)` constructor, plus its entry below.
"""

from __future__ import annotations

from ..provider import Provider
from .openai_chat import OpenAIChat

PROVIDERS = {
    "openai-chat": OpenAIChat,
}


def make_provider(config) -> Provider:
    """The provider a run's `api` names, set up from the run's options."""
    try:
        cls = PROVIDERS[config.api]
    except KeyError:
        raise ValueError(f"unknown api {config.api!r}; known: {', '.join(PROVIDERS)}") from None
    return cls.from_config(config)
