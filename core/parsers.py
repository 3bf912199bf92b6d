"""JSON with a depth limit, for the API and for files: a body nested thousands of
levels deep is refused with a plain message instead of crashing the parser."""

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest legitimate document (a scoring rule with conditions 6 levels deep, in a
# rules file) is under 20 levels; Python's parser gives up (RecursionError) near 1,000.
MAX_JSON_DEPTH = 32


class JSONTooDeep(ValueError):
    def __init__(self, limit: int = MAX_JSON_DEPTH):
        super().__init__(f"the JSON is nested more than {limit} levels deep")


def check_depth(value: Any, *, limit: int = MAX_JSON_DEPTH) -> Any:
    """Return value, or raise JSONTooDeep if its objects and arrays nest deeper than limit."""
    # A loop with a stack, not recursion: the check itself must not overflow.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise JSONTooDeep(limit)
        stack.extend((child, depth + 1) for child in children)
    return value


def json_loads(text: str | bytes, *, limit: int = MAX_JSON_DEPTH, **options) -> Any:
    """json.loads that raises a ValueError (JSONTooDeep) for too deep a document."""
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JSONTooDeep(limit) from None
    return check_depth(value, limit=limit)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a too deep body with 400 (ParseError), not 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {JSONTooDeep()}.") from None
        try:
            return check_depth(data)
        except JSONTooDeep as error:
            raise ParseError(f"JSON parse error - {error}.") from None
