"""The importers' SQL: the statements in `sql/*.sql`, rendered for the vocabulary's arms."""

from __future__ import annotations

from evalhouse.sqlfiles import Statements
from evalhouse.vocabulary import ARM_CODES

SQL = Statements(__package__, arms=ARM_CODES)
