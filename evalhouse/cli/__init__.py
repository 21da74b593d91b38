"""The `evalhouse` command: thin click verbs over the library.

A user's mistake ends in one `Error:` line and exit code 1, never a traceback.

Each command's module is imported only when that command runs: the analysis commands pull in pandas
and statsmodels, which would otherwise add a second or two to every `evalhouse build`.
"""

from __future__ import annotations

import importlib

import click

from evalhouse import __version__

# name -> "module:attribute" of each command, in the order `--help` lists them
COMMANDS = {
    "ingest": "evalhouse.cli.ingest:ingest",
    "build": "evalhouse.cli.build:build",
    "regrade": "evalhouse.cli.build:regrade",
    "analyze": "evalhouse.cli.analyze:analyze",
    "export": "evalhouse.cli.export:export",
    "problems": "evalhouse.cli.problems:problems",
    "synthetic": "evalhouse.cli.synthetic:synthetic",
    "rerun": "evalhouse.cli.ops:rerun",
    "status": "evalhouse.cli.ops:status",
    "validate": "evalhouse.cli.ops:validate",
    "report": "evalhouse.cli.ops:report",
    "repair": "evalhouse.cli.ops:repair",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
