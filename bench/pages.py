"""Back-office pages timed in-process (Django's test client, logged in as a
superuser) with their query counts, and the plans of the dashboard's queries."""

import json
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

# The table the dashboards must never read whole.
INTERACTIONS_TABLE = "interactions_userinteraction"
HASHED_SUBPLAN = re.compile(r"hashed (SubPlan \d+)")


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    # A target in milliseconds at the largest data size.
    target_ms: float
    # The dashboards must also grow slowly: at most this many times their time at the smallest size.
    growth_limit: float | None = None
    explain: bool = False


PAGES = (
    Page("dashboard (admin page)", "/admin/comprehensive/dashboard/", 300, growth_limit=3, explain=True),
    Page("dashboard API", "/api/v1/dashboard/", 300, growth_limit=3, explain=True),
    Page("interaction log (admin list)", "/admin/interactions/userinteraction/", 300),
    Page("lead list (admin list)", "/admin/leads/lead/", 300),
    Page("lead-scoring page", "/admin/comprehensive/lead-scoring/", 300),
)


@dataclass(frozen=True)
class Timing:
    page: Page
    seconds: float | None
    queries: int
    # The SELECTs the page ran, as sent to the database (to be explained), with their seconds.
    selects: tuple[tuple[str, float], ...]
    error: str = ""


def time_page(client: Client, page: Page, *, repeats: int) -> Timing:
    """Median of `repeats` loads after a first one, which is the one whose queries are counted:
    on every database alias, since the dashboard reads on `analytics` (core.db)."""
    try:
        with ExitStack() as stack:
            captured = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]
            status = client.get(page.url).status_code
        # Read now: the next request clears the connections' query logs.
        queries = [(query["sql"], float(query["time"])) for log in captured for query in log.captured_queries]
        if status != 200:
            return Timing(page, None, len(queries), (), error=f"answered {status}")
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            client.get(page.url)
            times.append(time.perf_counter() - start)
    except Exception as error:  # a page that crashes is reported, not the end of the run
        return Timing(page, None, 0, (), error=f"{type(error).__name__}: {error}")
    selects = tuple((sql, seconds) for sql, seconds in queries if sql.lstrip().upper().startswith(("SELECT", "WITH")))
    return Timing(page, statistics.median(times), len(queries), selects)


def explain(statement: str) -> dict:
    """PostgreSQL's plan for a statement (not run): the root node of EXPLAIN (FORMAT JSON)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}")
        document = cursor.fetchone()[0]
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def _nodes(plan: dict, depth: int = 0) -> Iterator[tuple[int, dict]]:
    yield depth, plan
    for child in plan.get("Plans", []):
        yield from _nodes(child, depth + 1)


def plan_flags(plan: dict) -> list[str]:
    """What makes a plan grow with the whole log: a sequential scan of the interactions,
    or a subquery run again for every row (a SubPlan PostgreSQL could not hash)."""
    # A hashed SubPlan is named plainly ("SubPlan 2") in its own node; only the
    # expression that uses it says "hashed SubPlan 2".
    hashed = set(HASHED_SUBPLAN.findall(json.dumps(plan)))
    flags = []
    for _, node in _nodes(plan):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == INTERACTIONS_TABLE:
            flags.append(f"Seq Scan on {INTERACTIONS_TABLE}")
        name = node.get("Subplan Name", "")
        if node.get("Parent Relationship") == "SubPlan" and name not in hashed:
            flags.append(f"{name} is not hashed: it runs once per outer row")
    return flags


def plan_lines(plan: dict) -> list[str]:
    """The plan as an indented tree, one node a line."""
    lines = []
    for depth, node in _nodes(plan):
        text = node["Node Type"]
        if "Relation Name" in node:
            text += f" on {node['Relation Name']}"
        if "Index Name" in node:
            text += f" using {node['Index Name']}"
        if node.get("Parent Relationship") in ("SubPlan", "InitPlan"):
            text += f" [{node.get('Subplan Name', node['Parent Relationship'])}]"
        text += f" (rows {node['Plan Rows']:,}, cost {node['Total Cost']:,.0f})"
        lines.append("  " * depth + text)
    return lines
