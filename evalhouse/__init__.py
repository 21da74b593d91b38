"""evalhouse: a DuckDB-backed data warehouse for LLM evaluation results."""

__version__ = "0.1.0"
