"""bench/pages.py: the dashboard plans' flags, on a real EXPLAIN (FORMAT JSON)."""

import json
from pathlib import Path

from bench.pages import plan_flags, plan_lines

# PostgreSQL 15's plan of a query with a correlated subquery (SubPlan 1, run per
# row), a NOT IN that it hashes (SubPlan 2) and a sequential scan of the interactions.
PLAN = json.loads((Path(__file__).parent / "explain_seq_scan_and_subplans.json").read_text())[0]["Plan"]


def test_a_seq_scan_of_interactions_and_an_unhashed_subplan_are_flagged():
    assert plan_flags(PLAN) == [
        "SubPlan 1 is not hashed: it runs once per outer row",
        "Seq Scan on interactions_userinteraction",
    ]


def test_a_hashed_subplan_and_scans_of_other_tables_are_not_flagged():
    flags = " ".join(plan_flags(PLAN))

    assert "SubPlan 2" not in flags
    assert "interactions_usersession" not in flags


def test_the_plan_prints_as_an_indented_tree():
    lines = plan_lines(PLAN)

    assert lines[0].startswith("Seq Scan on interactions_usersession (rows 792")
    assert lines[1] == "  Aggregate [SubPlan 1] (rows 1, cost 20)"
    assert lines[-1].startswith("  Seq Scan on interactions_userinteraction [SubPlan 2]")
