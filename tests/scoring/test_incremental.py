"""Incremental scoring gives exactly the whole journey's score: on random journeys,
random rule sets and visits that change between steps, with the state stored as
JSON between steps as the database keeps it; with decay too, at random times,
half-lives and moments of reading."""

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import engine, incremental
from scoring.engine import BASE, BONUS, Rule

TYPES = ["ai_recommendation", "face_analysis", "cost_calculator", "appointment_booking",
         "page_engagement", "search", "contact_form", engine.ADJUSTMENT]
WORDS = ["immediate", "soon", "flexible", "low", "medium", "high", "google", "botox", "lip-filler", "acne"]


def leaf():
    text = st.sampled_from(WORDS)
    number = st.integers(min_value=-1, max_value=6)
    return st.one_of(
        st.builds(lambda v: {"field": "interaction_type", "op": "eq", "value": v}, st.sampled_from(TYPES[:-1])),
        st.builds(lambda f, v: {"field": f, "op": "eq", "value": v},
                  st.sampled_from(["urgency", "budget_level", "utm_source", "data.colour"]), text),
        st.builds(lambda f, o, v: {"field": f, "op": o, "value": v},
                  st.sampled_from(["position", "tool_position", "procedure_count", "visit_count"]),
                  st.sampled_from(["gt", "gte", "lt", "lte"]), number),
        st.builds(lambda o, v: {"field": "engagement_seconds", "op": o, "value": v},
                  st.sampled_from(["gt", "lte"]), st.sampled_from([0, 30, 200])),
        st.builds(lambda f, o, v: {"field": f, "op": o, "value": v},
                  st.sampled_from(["procedures", "concerns", "utm_campaign"]),
                  st.sampled_from(["in", "not_in"]), st.lists(text, min_size=1, max_size=3)),
        st.builds(lambda f, v: {"field": f, "op": "contains", "value": v},
                  st.sampled_from(["procedures", "utm_medium"]), text),
        st.builds(lambda f, v: {"field": f, "op": "exists", "value": v},
                  st.sampled_from(["urgency", "utm_source", "data.colour"]), st.sampled_from([True, False])),
    )


conditions = st.recursive(
    leaf(),
    lambda children: st.one_of(
        st.builds(lambda parts: {"all": parts}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, children),
    ),
    max_leaves=6,
)


@st.composite
def rule_sets(draw):
    rules = []
    for index in range(draw(st.integers(min_value=0, max_value=7))):
        kind = draw(st.sampled_from([BASE, BONUS]))
        rules.append(Rule(
            name=f"rule {index}",
            kind=kind,
            condition=draw(conditions),
            points=draw(st.integers(min_value=-30, max_value=90)),
            per_occurrence=kind == BONUS and draw(st.booleans()),
        ))
    return rules


@st.composite
def steps(draw):
    kind = draw(st.sampled_from(TYPES))
    if kind == engine.ADJUSTMENT:
        return engine.Step(kind, {"points": draw(st.integers(-50, 50)), "reason": draw(st.sampled_from(WORDS))})
    data = {}
    for key in ("urgency", "budget_level", "colour"):
        if draw(st.booleans()):
            data[key] = draw(st.sampled_from(WORDS))
    if draw(st.booleans()):
        data["procedures"] = draw(st.lists(st.sampled_from(WORDS), max_size=3))
    if draw(st.booleans()):
        data["concerns"] = draw(st.sampled_from(WORDS))  # a single value where a list is expected
    return engine.Step(kind, data or draw(st.sampled_from([None, {}])))


visits = st.builds(
    engine.SessionFacts,
    engagement_seconds=st.one_of(st.none(), st.integers(0, 400)),
    visit_count=st.one_of(st.none(), st.integers(1, 5)),
    utm_source=st.sampled_from([None, "", "google", "Google"]),
    utm_medium=st.sampled_from([None, "cpc", "botox"]),
    utm_campaign=st.sampled_from([None, "acne", "botox"]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_sets(), journey=st.lists(st.tuples(steps(), visits), max_size=12),
       thresholds=st.sampled_from([engine.Thresholds(), engine.Thresholds(medium=10, high=20)]))
def test_incremental_scores_equal_whole_journey_scores(rules, journey, thresholds):
    ruleset = incremental.RuleSet(rules)
    stored = incremental.state_new(ruleset).as_data()
    for done, (step, facts) in enumerate(journey, start=1):
        state = incremental.state_from_data(json.loads(json.dumps(stored)), ruleset)
        incremental.journey_step(state, step, ruleset)
        stored = state.as_data()

        incremental_result = incremental.journey_score(state, ruleset, session_facts=facts, thresholds=thresholds)
        whole = engine.score_journey(
            [step for step, _ in journey[:done]], session_facts=facts, rules=rules, thresholds=thresholds
        )
        assert incremental_result == whole
    # Folded again with the rule set that has now seen these interactions (it remembers
    # their answers to the rules): the same state as step by step.
    again = incremental.journey_state([step for step, _ in journey], ruleset)
    assert again.as_data() == stored


START = datetime(2026, 1, 1, tzinfo=UTC)
# Gaps between steps and from the newest step to the reading: none, seconds, hours,
# thirds of a day (their weights multiply to exact halves only in real numbers), years.
gaps = st.one_of(
    st.just(0.0), st.floats(min_value=0, max_value=90), st.integers(0, 72).map(lambda hours: hours * 3600.0),
    st.integers(0, 9).map(lambda thirds: thirds * 28_800.0), st.floats(min_value=0, max_value=3 * 365 * 86_400),
)
half_lives = st.one_of(st.sampled_from([1, 2, 7, 30, 90, 365]), st.floats(min_value=0.01, max_value=400))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_sets(), journey=st.lists(st.tuples(steps(), visits, gaps, gaps), max_size=12),
       half_life_days=half_lives, as_datetime=st.booleans(),
       thresholds=st.sampled_from([engine.Thresholds(), engine.Thresholds(medium=10, high=20)]))
def test_incremental_scores_equal_whole_journey_scores_with_decay(rules, journey, half_life_days, as_datetime,
                                                                  thresholds):
    """Read after each step, a little or long after it (or before it: a score is never
    read as of before the newest step), the two agree to the point on every reason."""
    ruleset = incremental.RuleSet(rules, half_life_days=half_life_days)
    stored = incremental.state_new(ruleset).as_data()
    moment, timed = START.timestamp(), []
    for step, facts, gap, wait in journey:
        moment += gap
        at = datetime.fromtimestamp(moment, UTC) if as_datetime else moment
        timed.append(engine.Step(step.interaction_type, step.data, at))
        state = incremental.state_from_data(json.loads(json.dumps(stored)), ruleset)
        incremental.journey_step(state, timed[-1], ruleset)
        stored = state.as_data()

        for now in (moment + wait, moment - wait, None):
            incremental_result = incremental.journey_score(
                state, ruleset, session_facts=facts, thresholds=thresholds, now=now)
            whole = engine.score_journey(timed, session_facts=facts, rules=rules, thresholds=thresholds,
                                         now=now, half_life_days=half_life_days)
            assert incremental_result == whole


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(TYPES), step=steps(), extra=st.dictionaries(
    st.sampled_from(["procedure_count", "budget_amount", "query", "colour"]),
    st.one_of(st.none(), st.integers(-1, 3), st.sampled_from([True, 1.0, "2"]), st.lists(st.sampled_from(WORDS)))))
def test_each_interaction_fact_is_read_from_the_data_keys_the_engine_names(kind, step, extra):
    """engine.FACT_DATA_KEYS, which the rule sets remember interactions by, says
    where each fact of engine.interaction_facts comes from."""
    data = {**(step.data or {}), **extra}
    facts = engine.interaction_facts(kind, data, position=3, tool_position=2)
    assert set(engine.FACT_DATA_KEYS) == set(facts) - {"data"}
    for name, keys in engine.FACT_DATA_KEYS.items():
        only_those = {key: data[key] for key in keys if key in data}
        assert engine.interaction_facts(kind, only_those, position=3, tool_position=2)[name] == facts[name]


def test_a_state_built_with_other_rules_is_not_used():
    rules = [Rule("AI", BASE, {"field": "interaction_type", "op": "eq", "value": "ai_recommendation"}, 60)]
    state = incremental.journey_state([engine.Step("ai_recommendation", {})], incremental.RuleSet(rules))
    changed = incremental.RuleSet([Rule("AI", BASE, rules[0].condition, 65)])

    assert incremental.state_from_data(state.as_data(), incremental.RuleSet(rules)) == state
    assert incremental.state_from_data(state.as_data(), changed) is None
    assert incremental.state_from_data(None, changed) is None


def test_a_visit_fact_that_changes_later_counts_for_earlier_interactions():
    """"Face analysis on a second visit" holds for a first-visit face analysis once
    the visitor comes back: the state keeps the answer open until the score is read."""
    condition = {"all": [{"field": "interaction_type", "op": "eq", "value": "face_analysis"},
                         {"field": "visit_count", "op": "gte", "value": 2}]}
    ruleset = incremental.RuleSet([Rule("Came back after a face analysis", BONUS, condition, 10)])
    state = incremental.journey_state([engine.Step("face_analysis", {})], ruleset)

    first_visit = incremental.journey_score(state, ruleset, session_facts=engine.SessionFacts(visit_count=1))
    second_visit = incremental.journey_score(state, ruleset, session_facts=engine.SessionFacts(visit_count=2))

    assert (first_visit.points, second_visit.points) == (0, 10)


def test_a_state_built_without_decay_or_with_another_half_life_is_not_used():
    rules = [Rule("AI", BASE, {"field": "interaction_type", "op": "eq", "value": "ai_recommendation"}, 60)]
    step = engine.Step("ai_recommendation", {}, START)
    plain, weekly = incremental.RuleSet(rules), incremental.RuleSet(rules, half_life_days=7)
    state = incremental.journey_state([step], plain)
    decaying = incremental.journey_state([step], weekly)

    assert incremental.state_from_data(state.as_data(), weekly) is None
    assert incremental.state_from_data(decaying.as_data(), plain) is None
    assert incremental.state_from_data(decaying.as_data(), incremental.RuleSet(rules, half_life_days=14)) is None
    assert incremental.state_from_data(decaying.as_data(), weekly) == decaying


def test_without_decay_the_state_and_its_fingerprint_are_as_before():
    """Stored states of a clinic that never turns decay on stay valid across the upgrade."""
    rules = [Rule("AI", BASE, {"field": "interaction_type", "op": "eq", "value": "ai_recommendation"}, 60)]
    state = incremental.journey_state([engine.Step("ai_recommendation", {}, START)], incremental.RuleSet(rules))

    assert incremental.RuleSet(rules).fingerprint == "04b14ea2442bd694"
    assert state.as_data() == {"format": 1, "ruleset": "04b14ea2442bd694", "actions": 1, "tools": 1,
                               "patterns": [{"": [1, 0]}], "adjustments": [], "last_at": ""}
