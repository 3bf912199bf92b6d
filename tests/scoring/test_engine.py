"""The pure scoring engine: plain data, no database."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import engine
from scoring.engine import BASE, BONUS, ConditionError, Rule, Thresholds


def type_is(name):
    return {"field": "interaction_type", "op": "eq", "value": name}


RULES = [
    Rule("AI", BASE, type_is("ai_recommendation"), 60),
    Rule("Face", BASE, type_is("face_analysis"), 80),
    Rule("Urgent", BONUS, {"field": "urgency", "op": "eq", "value": "immediate"}, 25),
    Rule("Further", BONUS, {"field": "position", "op": "gt", "value": 1}, 5, per_occurrence=True),
    Rule("Long visit", BONUS, {"field": "engagement_seconds", "op": "gte", "value": 180}, 15),
]


def journey(*steps, session=None):
    """(interaction_type, data) pairs, oldest first, and the session's facts by name."""
    return [engine.Step(kind, data) for kind, data in steps], engine.SessionFacts(**(session or {}))


def score(journey, rules):
    steps, session_facts = journey
    return engine.score_journey(steps, session_facts=session_facts, rules=rules)


def test_a_single_interaction_scores_its_base():
    result = score(journey(("ai_recommendation", {})), RULES)
    assert result.points == 60
    assert result.level == "medium"
    assert [r.rule for r in result.reasons] == ["AI"]


def test_bases_do_not_add_up_the_highest_wins():
    result = score(journey(("ai_recommendation", {}), ("face_analysis", {})), RULES)
    assert result.points == 80 + 5
    assert [(r.rule, r.points) for r in result.reasons] == [("Face", 80), ("Further", 5)]


def test_a_once_rule_gives_its_points_once_however_often_it_matches():
    steps = [("ai_recommendation", {"urgency": "immediate"})] * 3
    result = score(journey(*steps), [RULES[0], RULES[2]])
    assert result.points == 60 + 25


def test_a_per_occurrence_rule_counts_every_matching_interaction():
    steps = [("cost_calculator", {})] * 4
    result = score(journey(*steps), [RULES[3]])
    assert result.points == 15
    assert result.reasons[0].occurrences == 3


def test_a_per_occurrence_rule_counts_browser_events_once_however_many_match():
    # Changed (issue 10): four searches used to give "Further" 3 times. A browser can
    # send any number of searches and page-engagement beacons, so they count once.
    every_search = Rule("Each search", BONUS, {"field": "interaction_type", "op": "eq", "value": "search"}, 5,
                        per_occurrence=True)
    steps = [("search", {"query": "x"})] * 17 + [("page_engagement", {})] * 5
    result = score(journey(*steps), [RULES[3], every_search])
    assert [(r.rule, r.points, r.occurrences) for r in result.reasons] == [("Further", 5, 1), ("Each search", 5, 1)]


def test_tool_position_counts_tool_uses_only():
    facts = engine.journey_facts(*journey(("page_engagement", {}), ("search", {}), ("ai_recommendation", {}), ("search", {}),
                    ("face_analysis", {})))
    assert [step["tool_position"] for step in facts.interactions] == [None, None, 1, None, 2]
    assert [step["position"] for step in facts.interactions] == [1, 2, 3, 4, 5]


def test_session_facts_are_seen_by_every_interaction():
    result = score(journey(("search", {}), session={"engagement_seconds": 240}), RULES)
    assert [(r.rule, r.points) for r in result.reasons] == [("Long visit", 15)]


def test_score_is_clamped_at_100_and_reasons_keep_the_raw_points():
    result = score(journey(("face_analysis", {"urgency": "immediate"}), session={"engagement_seconds": 999}), RULES)
    assert result.raw_points == 80 + 25 + 15
    assert result.points == 100
    assert result.level == "high"


def test_negative_rules_never_take_the_score_below_zero():
    rules = [Rule("Spam words", BONUS, {"field": "data.message", "op": "contains", "value": "casino"}, -50)]
    result = score(journey(("search", {"message": "Cheap CASINO offers"})), rules)
    assert result.points == 0
    assert result.raw_points == -50


def test_an_empty_journey_scores_zero():
    assert score(journey(), RULES).points == 0


@pytest.mark.parametrize(
    ("points", "level"), [(0, "low"), (39, "low"), (40, "medium"), (69, "medium"), (70, "high"), (100, "high")]
)
def test_levels_follow_the_default_thresholds(points, level):
    assert engine.level_for(points) == level


def test_thresholds_are_configurable():
    assert engine.level_for(60, Thresholds(medium=20, high=50)) == "high"
    with pytest.raises(ValueError):
        Thresholds(medium=80, high=50)


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        ({"field": "urgency", "op": "eq", "value": "Immediate"}, {"urgency": "immediate"}, True),
        ({"field": "urgency", "op": "ne", "value": "immediate"}, {}, True),
        ({"field": "budget_amount", "op": "gte", "value": 3000}, {"budget_amount": "3500"}, True),
        ({"field": "budget_amount", "op": "gt", "value": 3000}, {"budget_amount": "lots"}, False),
        ({"field": "budget_amount", "op": "lt", "value": 1000}, {}, False),
        ({"field": "procedures", "op": "contains", "value": "botox"}, {"procedures": ["botox", "filler"]}, True),
        ({"field": "procedures", "op": "in", "value": ["rhinoplasty", "filler"]}, {"procedures": ["filler"]}, True),
        ({"field": "procedures", "op": "not_in", "value": ["rhinoplasty"]}, {"procedures": ["filler"]}, True),
        ({"field": "urgency", "op": "in", "value": ["immediate", "soon"]}, {"urgency": "soon"}, True),
        ({"field": "budget_level", "op": "exists"}, {"budget_level": "high"}, True),
        ({"field": "budget_level", "op": "exists", "value": False}, {}, True),
        ({"field": "data.source_page", "op": "contains", "value": "wedding"}, {"source_page": "/wedding-prep/"}, True),
        ({"not": {"field": "urgency", "op": "eq", "value": "immediate"}}, {"urgency": "immediate"}, False),
        ({"any": [{"field": "urgency", "op": "eq", "value": "x"}, {"field": "position", "op": "eq", "value": 1}]}, {}, True),
        ({"all": [{"field": "position", "op": "eq", "value": 1}]}, {}, True),
    ],
)
def test_conditions_evaluate_as_documented(condition, facts, expected):
    engine.validate_condition(condition)
    rule = Rule("r", BONUS, condition, 10)
    assert (score(journey(("search", facts)), [rule]).points == 10) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("urgency == 'immediate'", "must be an object"),
        ({"field": "urgncy", "op": "eq", "value": "immediate"}, "Unknown field 'urgncy'"),
        ({"field": "urgency", "op": "equals", "value": "immediate"}, "Unknown operator 'equals'"),
        ({"field": "urgency", "op": "eq"}, "needs a \"value\""),
        ({"field": "budget_amount", "op": "gte", "value": "3000"}, "not a number"),
        ({"field": "urgency", "op": "gt", "value": 3}, "is not a number"),
        ({"field": "urgency", "op": "in", "value": []}, "non-empty list"),
        ({"field": "urgency", "op": "eq", "value": ["a"]}, "single value"),
        ({"field": "position", "op": "contains", "value": 1}, "is a number"),
        ({"all": {"field": "urgency"}}, "must be a list"),
        ({"all": [], "any": []}, "only key"),
        ({"all": []}, "would always apply"),
        ({"any": []}, "would never apply"),
        ({"not": {"all": []}}, "would always apply"),
        ({"field": "urgency", "op": "eq", "value": "x", "points": 3}, "Unknown key"),
        ({"field": "data.", "op": "exists"}, "must be followed"),
        ({"field": "budget_amount", "op": "gt", "value": float("nan")}, "not a number"),
        ({"field": "urgency", "op": {}, "value": "x"}, "Unknown operator"),
        ({"field": "urgency", "op": "exists", "value": 0}, "takes no value, or true/false"),
    ],
)
def test_bad_conditions_are_rejected_in_plain_words(condition, message):
    with pytest.raises(ConditionError) as error:
        engine.validate_condition(condition)
    assert message in str(error.value)


def test_deeply_nested_conditions_are_rejected():
    condition = {"field": "urgency", "op": "exists"}
    for _ in range(engine.MAX_CONDITION_DEPTH):
        condition = {"not": condition}
    with pytest.raises(ConditionError, match="nested"):
        engine.validate_condition(condition)


def test_rules_are_validated_as_a_whole():
    with pytest.raises(ConditionError, match="only bonus rules"):
        engine.validate_rule(Rule("x", BASE, {"field": "position", "op": "gte", "value": 1}, 10, per_occurrence=True))
    with pytest.raises(ConditionError, match="between"):
        engine.validate_rule(Rule("x", BONUS, {"field": "position", "op": "gte", "value": 1}, 500))


def test_conditions_read_as_words():
    condition = {"all": [{"field": "position", "op": "gt", "value": 1}, {"field": "urgency", "op": "in", "value": ["immediate", "soon"]}]}
    assert engine.describe_condition(condition) == "(position is greater than 1) and (urgency is one of immediate, soon)"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
fact_names = st.sampled_from([*engine.FIELDS, "data.x"])
leaf_conditions = st.builds(
    lambda field, op, value: {"field": field, "op": op, "value": value},
    fact_names,
    st.sampled_from(list(engine.OPERATORS)),
    json_values,
)
interaction_data = st.dictionaries(
    st.sampled_from(["urgency", "budget_level", "budget_amount", "procedures", "concerns", "x", "procedure_count"]),
    json_values,
    max_size=5,
)


@given(
    steps=st.lists(st.tuples(st.sampled_from(["ai_recommendation", "face_analysis", "search"]), interaction_data), max_size=6),
    session=st.dictionaries(st.sampled_from(["engagement_seconds", "visit_count", "utm_source"]), json_values, max_size=3),
    rules=st.lists(
        st.builds(
            Rule,
            name=st.text(min_size=1, max_size=5),
            kind=st.sampled_from([BASE, BONUS]),
            condition=leaf_conditions,
            points=st.integers(-100, 100),
            per_occurrence=st.booleans(),
        ),
        max_size=8,
    ),
)
def test_any_facts_and_valid_rules_give_a_score_between_0_and_100(steps, session, rules):
    valid = []
    for rule in rules:
        try:
            engine.validate_rule(rule)
        except ConditionError:
            continue
        valid.append(rule)
    result = score(journey(*steps, session=session), valid)
    assert 0 <= result.points <= 100
    assert result.level in {"low", "medium", "high"}
    assert result.raw_points == sum(reason.points for reason in result.reasons)


def test_staff_adjustments_add_their_points_and_are_invisible_to_rules():
    steps = [("ai_recommendation", {}), ("score_adjustment", {"points": 20, "reason": "walk-in"})]
    result = score(journey(*steps), RULES)
    assert result.points == 60 + 20
    assert [(r.rule, r.points) for r in result.reasons] == [("AI", 60), ("Adjusted by staff: walk-in", 20)]


def test_a_negative_adjustment_lowers_the_score_but_not_below_zero():
    steps = [("search", {}), ("score_adjustment", {"points": -30, "reason": "wrong number"})]
    assert score(journey(*steps), RULES).points == 0


def test_malformed_adjustment_data_counts_for_nothing():
    steps = [("ai_recommendation", {}), ("score_adjustment", {"points": "lots"})]
    assert score(journey(*steps), RULES).points == 60


def test_every_session_fact_is_a_field_conditions_can_name():
    assert set(engine.SESSION_FIELDS) <= set(engine.FIELDS)
    assert set(engine.SessionFacts(visit_count=2).as_facts()) == set(engine.SESSION_FIELDS)


def test_unknown_session_facts_are_absent_as_before_they_were_typed():
    seen = {"field": "visit_count", "op": "exists"}
    rule = Rule("Known visits", BONUS, seen, 10)
    assert score(journey(("search", {})), [rule]).points == 0
    assert score(journey(("search", {}), session={"visit_count": 1}), [rule]).points == 10


ANY_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True), st.sampled_from(
        ["", "Immediate", "immediate", "botox", "BOTOX", "2", "2.5", "nan", "inf", "lip"])),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.sampled_from(["a", "b"]), children)),
    max_leaves=4,
)
EXPECTED = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["immediate", "Botox", "2", "lip"]),
    st.lists(st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["Botox", "2", "lip"])),
             min_size=1, max_size=3),
)


def near(expected):
    """Values that meet `expected` at its edges: itself, another case, a number next to it."""
    values = expected if isinstance(expected, list) else [expected]
    close = []
    for value in values:
        if isinstance(value, str):
            close += [value, value.upper(), value.lower(), value[:1], [value.upper()]]
        elif isinstance(value, (int, float)):
            close += [value, value + 1, value - 1, str(value), float(value), [value]]
    return st.sampled_from(close) if close else ANY_VALUE


@pytest.mark.parametrize("op", sorted(engine.OPERATORS))
@settings(max_examples=300, deadline=None)
@given(expected=EXPECTED, data=st.data())
def test_a_compiled_test_answers_as_compare_does(op, expected, data):
    """Rescoring folds journeys with compiled tests; the rules mean what compare says."""
    actual = data.draw(st.one_of(ANY_VALUE, near(expected)))
    try:
        answer = engine.compare(actual, op, expected)
    except (TypeError, ConditionError) as error:
        with pytest.raises(type(error)):
            engine.compile_test(op, expected)(actual)
    else:
        assert engine.compile_test(op, expected)(actual) is answer
