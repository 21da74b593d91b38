"""The rerun's log: one appended file plus the console, with the API key redacted from every line.

The key never reaches a log line in the first place (no request header or URL is logged); redaction is
the second fence, applied to the fully formatted record, tracebacks included.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

REDACTED = "[redacted]"
# Loggers whose records belong in the rerun log: ours, and stamina's retry notices.
LOGGERS = ("evalhouse", "stamina")
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)-7s %(name)s: %(message)s"


# On the console a problem reads as the CLI's other messages do.
CONSOLE_PREFIX = {logging.WARNING: "Warning: ", logging.ERROR: "Error: ", logging.CRITICAL: "Error: "}


class RedactingFormatter(logging.Formatter):
    """Redacts the secrets; on the console, a record's traceback is left to the log file (`log_file`)."""

    def __init__(self, fmt: str, secrets: Iterable[str], console: bool = False, log_file: Path | None = None):
        super().__init__(fmt, datefmt="%Y-%m-%dT%H:%M:%S%z")
        # Very short values would redact ordinary text; real keys are long.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        self.console = console
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        if self.console and (record.exc_info or record.exc_text or record.stack_info):
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
            record.msg, record.args = f"{record.getMessage()} (traceback in {self.log_file or 'the log file'})", None
        text = super().format(record)
        if self.console:
            text = CONSOLE_PREFIX.get(record.levelno, "") + text
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


@contextmanager
def rerun_logging(log_file: Path, secrets: Iterable[str], quiet: bool = False) -> Iterator[logging.Logger]:
    """Send the rerun's records to `log_file` (appended; logrotate-safe) and to stderr, for the block."""
    secrets = list(secrets)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(RedactingFormatter(FILE_FORMAT, secrets))
    to_file.setLevel(logging.INFO)
    to_console = logging.StreamHandler(sys.stderr)
    to_console.setFormatter(RedactingFormatter("%(message)s", secrets, console=True, log_file=log_file))
    to_console.setLevel(logging.WARNING if quiet else logging.INFO)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.addHandler(to_file)
    loggers[0].addHandler(to_console)
    try:
        yield logging.getLogger("evalhouse.rerun")
    finally:
        loggers[0].removeHandler(to_console)
        for lg, level in zip(loggers, levels):
            lg.removeHandler(to_file)
            lg.setLevel(level)
        to_file.close()
