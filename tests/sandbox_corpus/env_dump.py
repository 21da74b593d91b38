"""Looks for the API key in its own environment."""

import os

T = {}  # the corpus runner puts the targets here

key = os.environ.get("EVALHOUSE_API_KEY") or os.environ.get("OPENROUTER_API_KEY")
if not key:
    raise SystemExit(f"no key in my environment: {sorted(os.environ)}")
print(key)
