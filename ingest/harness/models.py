"""A harness's model string → the warehouse's model id, through the model registry.

Harnesses name models in their own ways: inspect prefixes the provider (`openai/gpt-4o`,
`hf/meta-llama/Llama-3.1-8B-Instruct`, `vllm/…`), lm-eval records its model arguments
(`pretrained=meta-llama/Llama-3-8B,dtype=bfloat16`), HELM and Every Eval Ever use `org/name`.
The rules, in order (the first candidate the registry knows wins):

1. Model arguments (`k=v,k=v`): the value of `pretrained`, `model`, `path` or `engine`.
2. The name as given (`openai/gpt-4o` is a registry id).
3. Without an inspect provider prefix (`hf/`, `vllm/`, `openai-api/<service>/`, `mockllm/`, …).
4. The last path part (`meta-llama/Llama-3.1-8B-Instruct` → `Llama-3.1-8B-Instruct`: a display name or alias).

The registry lookup is case-insensitive. A name it does not know is kept without its model
arguments, and without the provider prefix when what remains is still `org/name` (case kept):
`hf/meta-llama/X` (inspect) and `pretrained=meta-llama/X` (lm-eval) are then one model, while
`anthropic/claude-x` stays as it is. Unknown names are reported by the import.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalhouse.registry import resolve

# inspect_ai's model providers (`<provider>/<model>`); `openai-api` and `openai-compatible`-style
# providers take one more part, the service name.
PROVIDERS = frozenset(
    {
        "anthropic", "azureai", "bedrock", "cf", "cloudflare", "deepseek", "fireworks", "goodfire", "google",
        "grok", "groq", "hf", "hf-inference-providers", "litellm", "llama-cpp-python", "mistral", "mockllm",
        "moonshot", "nnterp", "none", "ollama", "openai", "openrouter", "perplexity", "sagemaker", "sglang",
        "together", "transformer_lens", "vertex", "vllm", "xai",
    }
)  # fmt: skip
SERVICE_PROVIDERS = frozenset({"openai-api", "openai-compatible", "openai-completions"})
ARG_KEYS = ("pretrained", "model", "path", "engine", "model_name")


@dataclass(frozen=True)
class ModelName:
    model: str  # the registry id, or the normalised name when the registry does not know it
    as_given: str
    known: bool


def normalise(given: str) -> ModelName:
    """The warehouse's model for a harness's model string (see the module docstring for the rules)."""
    as_given = given.strip()
    name = _from_model_args(as_given)
    stripped = _without_provider(name)
    for candidate in dict.fromkeys([name, stripped, stripped.rsplit("/", 1)[-1]]):
        if candidate and (found := resolve(candidate)):
            return ModelName(found, as_given, True)
    return ModelName(stripped if "/" in stripped else name, as_given, False)


def _from_model_args(name: str) -> str:
    if "=" not in name:
        return name
    args = dict(part.split("=", 1) for part in name.split(",") if "=" in part)
    return next((args[k].strip() for k in ARG_KEYS if args.get(k, "").strip()), name)


def _without_provider(name: str) -> str:
    parts = name.split("/")
    if len(parts) >= 3 and parts[0] in SERVICE_PROVIDERS:
        return "/".join(parts[2:])
    if len(parts) >= 2 and parts[0] in PROVIDERS:
        return "/".join(parts[1:])
    return name
