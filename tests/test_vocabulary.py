"""The vocabulary is stated once (evalhouse.vocabulary): seeds and SQL derive from it."""

import duckdb

from evalhouse import vocabulary
from evalhouse.vocabulary import ARM_CODES, REQUEST_ARMS, arm_order, response_id, response_id_sql


def test_arms_seed_is_generated_from_the_vocabulary():
    """seeds/arms.csv is exactly what `python -m evalhouse.vocabulary` writes."""
    assert vocabulary.SEED_ARMS.read_text() == vocabulary.arms_seed_csv()


def test_arms_are_the_contracts_four_in_order():
    """The contract's arms, in presentation order; code is the one arm that sends no request."""
    assert ARM_CODES == ("nl", "sim", "controlsim", "code")
    assert REQUEST_ARMS == ("nl", "sim", "controlsim")
    assert arm_order(["code", "legacy_x", "nl"]) == ["nl", "code", "legacy_x"]


def test_response_id_agrees_with_its_sql_rendering():
    """The importers' SQL hash gives the collector's response_id for the same fields."""
    sql = response_id_sql("'m/x'", "'toolproj/add/2/1'", "'nl'", "3", "2")
    assert duckdb.sql(f"select {sql}").fetchone()[0] == response_id("m/x", "toolproj/add/2/1", "nl", 3, 2)
    assert response_id("m", "p", "nl", 0) != response_id("m", "p", "nl", 0, 1)
