"""The `evalhouse` command: thin click verbs over the library.

A user's mistake ends in one `Error:` line and exit code 1, never a traceback.
"""
from __future__ import annotations

import click

from evalhouse import __version__

from .analyze import analyze
from .build import build
from .ingest import ingest
from .ops import report, rerun, status, validate
from .problems import problems
from .synthetic import synthetic


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="evalhouse")
def main() -> None:
    """evalhouse: a DuckDB warehouse for LLM evaluation results.

    Collect responses (ingest), build the warehouse with dbt (build), and analyse the marts (analyze).

    \b
    Example:
        evalhouse ingest run --base-url http://127.0.0.1:8765/v1 --model synthetic/atlas-large --kinds add --digits 2 --n 5
        evalhouse build
        evalhouse analyze mixedlm --from marts.model_metrics --formula "value ~ is_flagship" --group lab
    """


main.add_command(ingest)
main.add_command(build)
main.add_command(analyze)
main.add_command(problems)
main.add_command(synthetic)
main.add_command(rerun)
main.add_command(status)
main.add_command(validate)
main.add_command(report)
