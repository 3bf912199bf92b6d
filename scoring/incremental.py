"""Incremental scoring: a journey's score kept up to date one step at a time.

`engine.score_journey` scores a whole journey, and says what the rules mean. The
tracker cannot re-read a visitor's whole journey on every event (its cost would grow
with every event the visitor sends), so each journey keeps a `JourneyState`: the
least that must be remembered of the steps so far for the score to follow exactly,
whatever comes next. One step updates it in time independent of the journey's length
(`journey_step`), and `journey_score` reads the score from it. Folding a whole journey
into a new state (`journey_state`) gives the score `engine.score_journey` gives; a
property test holds the two to it.

What is remembered. A rule's condition tests facts of an interaction (its type,
procedures, position...) and facts of the visitor's visits (time on site, visits,
campaign). An interaction's facts never change once it happened, but the visits' do:
"used the face analysis and visited twice" holds for an earlier face analysis once
the second visit comes. So for each rule the state keeps the distinct *patterns* of
answers an interaction gave to the condition's interaction tests ("0110"), each with
how many tool uses and whether a repeatable event showed it; the condition is
finished with the visits' facts when the score is read. A rule that tests no visit
fact keeps one pattern, "", for "matched". Patterns are few: a rule with k
interaction tests has at most 2**k, and real rules have one to three.

A state belongs to one rule set: it names the set's fingerprint, and a state of
another set (the clinic changed its rules) is rebuilt from the journey.

Decay. A rule set with a half-life (engine: points fade with age) keeps, for each
pattern, also when it was last matched, by a tool use and by a repeatable event, and
for per-occurrence bonuses a decayed running sum of its tool uses: at each match
S = S * 0.5 ** (dt / h) + 1, read as S * 0.5 ** ((now - t_last) / h), which is the sum
of each use's weight. Times are POSIX seconds (floats: nothing to parse in a rescore's
loop). The half-life is part of the fingerprint, so a state built with another
half-life, or without decay, is rebuilt rather than read; a rule set without one keeps
and reads the state exactly as before, at the same cost (one test per step).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scoring import engine

# Not raised for decay: a decaying state is only ever read by a rule set with its
# half-life (the fingerprint names it), and a state without decay is unchanged, so
# raising it would make every lead's next event fold its journey for nothing.
STATE_FORMAT = 1

# The facts an interaction carries itself; any other field is a fact of the visits.
INTERACTION_FACTS = frozenset(engine.interaction_facts("", None, position=0))


def _on_visits(name: str) -> bool:
    return not name.startswith(engine.DATA_PREFIX) and name not in INTERACTION_FACTS


def _interaction_value(facts: Mapping[str, Any], name: str) -> Any:
    if name.startswith(engine.DATA_PREFIX):
        return facts["data"].get(name[len(engine.DATA_PREFIX):])
    return facts[name]


class _CompiledRule:
    """A rule's condition split into its interaction tests (answered as each step
    comes) and its visit tests (answered when the score is read). Each test is a
    function made once (engine.compile_test): a rescore asks them millions of times."""

    __slots__ = ("rule", "tree", "leaves", "interaction_leaves", "tests_visits", "pattern", "visit_tests")

    def __init__(self, rule: engine.Rule):
        self.rule = rule
        self.leaves: list[tuple[str, str, Any]] = []
        self.tree = self._compile(rule.condition)
        self.interaction_leaves = [i for i, (name, _, _) in enumerate(self.leaves) if not _on_visits(name)]
        self.tests_visits = len(self.interaction_leaves) < len(self.leaves)
        self.pattern = self._pattern_function()
        # Each visit test (leaf index -> the fact it reads, the test), for holds().
        self.visit_tests = {
            index: (name, engine.compile_test(op, value))
            for index, (name, op, value) in enumerate(self.leaves) if _on_visits(name)
        }

    def _compile(self, condition: Mapping[str, Any]) -> tuple:
        for group in ("all", "any"):
            if group in condition:
                return (group, tuple(self._compile(part) for part in condition[group]))
        if "not" in condition:
            return ("not", self._compile(condition["not"]))
        self.leaves.append((condition["field"], condition["op"], condition.get("value")))
        return ("leaf", len(self.leaves) - 1)

    def _test(self, index: int) -> Callable[[Mapping[str, Any]], bool]:
        """Leaf `index` (an interaction test) as a function of an interaction's facts."""
        name, op, value = self.leaves[index]
        test = engine.compile_test(op, value)
        if name.startswith(engine.DATA_PREFIX):
            key = name[len(engine.DATA_PREFIX):]
            return lambda facts: test(facts["data"].get(key))
        return lambda facts: test(facts[name])

    def _predicate(self, node: tuple) -> Callable[[Mapping[str, Any]], bool]:
        """A condition that tests no visit fact, as one function of an interaction's facts."""
        kind, body = node
        if kind == "leaf":
            return self._test(body)
        if kind == "not":
            part = self._predicate(body)
            return lambda facts: not part(facts)
        parts = tuple(self._predicate(part) for part in body)
        if len(parts) == 1:
            return parts[0]
        if kind == "all":
            return lambda facts: all(part(facts) for part in parts)
        return lambda facts: any(part(facts) for part in parts)

    def _pattern_function(self) -> Callable[[Mapping[str, Any]], str | None]:
        """pattern(facts): the interaction's answers to this rule's interaction tests
        ("0110"); None when they already say the rule cannot hold, whatever the visits."""
        if not self.tests_visits:
            holds = self._predicate(self.tree)
            return lambda facts: "" if holds(facts) else None
        tests = tuple(self._test(index) for index in self.interaction_leaves)
        return lambda facts: "".join(["1" if test(facts) else "0" for test in tests])

    def holds(self, pattern: str, visits: Mapping[str, Any]) -> bool:
        """Whether an interaction with this pattern matches, given the visits' facts."""
        if not self.tests_visits:
            return True  # only matching interactions leave a pattern
        if self.tree[0] == "leaf":  # the condition is one visit test
            name, test = self.visit_tests[self.tree[1]]
            return test(visits.get(name))
        answers = {index: bit == "1" for index, bit in zip(self.interaction_leaves, pattern)}
        return self._holds(self.tree, answers, visits)

    def _holds(self, node: tuple, answers: Mapping[int, bool], visits: Mapping[str, Any]) -> bool:
        kind, body = node
        if kind == "leaf":
            if body in answers:
                return answers[body]
            name, test = self.visit_tests[body]
            return test(visits.get(name))
        if kind == "all":
            return all(self._holds(part, answers, visits) for part in body)
        if kind == "any":
            return any(self._holds(part, answers, visits) for part in body)
        return not self._holds(body, answers, visits)


# A key of an interaction's data that it does not have (None is a value it may have).
_ABSENT = object()
_NO_DATA: Mapping[str, Any] = {}


def _frozen(value: Any) -> Any:
    """A value as a dictionary key that only an equal value of the same type
    matches (1, 1.0 and True are one key otherwise, and may compare differently)."""
    kind = type(value)
    if kind is str or value is None or value is _ABSENT:
        return value  # equal to nothing but itself: no need to say its type
    if kind is list or isinstance(value, list):
        return list, tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return dict, tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    return kind, value




class RuleSet:
    """Active rules, ready for incremental scoring, with the fingerprint that
    tells a state built with them from one built with other rules."""

    # Interactions are alike (a handful of types, procedures, budgets): their rule
    # patterns are remembered, up to this many kinds, then forgotten and learnt again.
    MAX_REMEMBERED_PATTERNS = 10_000

    def __init__(self, rules: Sequence[engine.Rule], *, half_life_days: float | None = None):
        engine.validate_half_life(half_life_days)
        self.rules = tuple(rules)
        self.compiled = tuple(_CompiledRule(rule) for rule in self.rules)
        self.half_life_days = half_life_days
        self.half_life_seconds = None if half_life_days is None else half_life_days * engine.SECONDS_PER_DAY
        described: list = [[r.name, r.kind, r.condition, r.points, r.per_occurrence] for r in self.rules]
        if half_life_days is not None:
            # Only then: without decay, the fingerprint (and every stored state) is as before.
            described.append(["half-life days", half_life_days])
        encoded = json.dumps(described, sort_keys=True, default=str).encode()
        self.fingerprint = hashlib.sha256(encoded).hexdigest()[:16]
        # The interaction facts the rules test: an interaction's patterns depend on them alone.
        self.interaction_fields = tuple(dict.fromkeys(
            compiled.leaves[index][0] for compiled in self.compiled for index in compiled.interaction_leaves
        ))
        self.remembered: dict[tuple, tuple[str | None, ...]] = {}
        self.remembered_steps: dict[tuple, tuple[tuple[int, str], ...]] = {}
        self._step_key = self._step_key_parts()

    def _step_key_parts(self) -> tuple[bool, bool, bool, tuple[str, ...]] | None:
        """What tells interactions apart for these rules, read from a step without
        building its facts: its type, position and tool position (each only if a rule
        tests it) and the data keys the tested facts are read from
        (engine.FACT_DATA_KEYS). None if a rule tests a fact not known there."""
        data_keys: list[str] = []
        for name in self.interaction_fields:
            if name.startswith(engine.DATA_PREFIX):
                data_keys.append(name[len(engine.DATA_PREFIX):])
            elif name in engine.FACT_DATA_KEYS:
                data_keys.extend(engine.FACT_DATA_KEYS[name])
            else:
                return None
        fields = self.interaction_fields
        return ("interaction_type" in fields, "position" in fields, "tool_position" in fields,
                tuple(dict.fromkeys(data_keys)))

    def step_matches(
        self, interaction_type: str, data: Mapping[str, Any] | None, *, position: int, tool_position: int | None
    ) -> tuple[tuple[int, str], ...]:
        """The rules an interaction leaves a pattern for, as (rule index, pattern)
        pairs (patterns() says which, given its facts). Remembered by the values the
        facts are read from, so an interaction like one seen before costs a key and a
        lookup: folding a whole journey (a rescore) does this millions of times."""
        parts = self._step_key
        key = None
        if parts is not None:
            by_type, by_position, by_tool_position, data_keys = parts
            get = data.get if data else _NO_DATA.get
            key = (interaction_type if by_type else None, position if by_position else None,
                   tool_position if by_tool_position else None, *[_frozen(get(name, _ABSENT)) for name in data_keys])
            try:
                return self.remembered_steps[key]
            except KeyError:
                pass
            except TypeError:  # a value that cannot be a key: work it out
                key = None
        facts = engine.interaction_facts(interaction_type, data, position=position, tool_position=tool_position)
        found = tuple(
            (index, pattern) for index, pattern in enumerate(self.patterns(facts)) if pattern is not None
        )
        if key is not None:
            if len(self.remembered_steps) >= self.MAX_REMEMBERED_PATTERNS:
                self.remembered_steps = {}
            self.remembered_steps[key] = found
        return found

    def patterns(self, facts: Mapping[str, Any]) -> tuple[str | None, ...]:
        """Each rule's pattern for an interaction with these facts (_CompiledRule.pattern):
        worked out once for each kind of interaction (the values of the facts the
        rules test), which is most of the cost of scoring one event."""
        key = tuple(_frozen(_interaction_value(facts, name)) for name in self.interaction_fields)
        try:
            return self.remembered[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key (a set from a caller): work it out
            return tuple(compiled.pattern(facts) for compiled in self.compiled)
        if len(self.remembered) >= self.MAX_REMEMBERED_PATTERNS:
            self.remembered = {}
        found = self.remembered[key] = tuple(compiled.pattern(facts) for compiled in self.compiled)
        return found


@dataclass
class JourneyState:
    """What a journey's score needs of its steps so far (see the module docstring).
    `patterns[i]` is rule i's: pattern -> [tool uses, repeatable event seen (0/1)],
    and with decay, after these, [decayed sum of the tool uses, time of the last tool
    use, time of the last repeatable event] (times in POSIX seconds, None for none).
    `last_at` is when the newest step happened (ISO 8601), kept by the caller: a step
    older than it is not the newest, and cannot be added (fold the journey again).
    `latest`, with decay only, is the newest step's time in POSIX seconds, kept here:
    a score is never read as of before it."""

    ruleset: str
    actions: int = 0
    tools: int = 0
    patterns: list[dict[str, list]] = field(default_factory=list)
    adjustments: list[tuple[int, str]] = field(default_factory=list)
    last_at: str = ""
    latest: float | None = None

    def as_data(self) -> dict[str, Any]:
        data = {
            "format": STATE_FORMAT,
            "ruleset": self.ruleset,
            "actions": self.actions,
            "tools": self.tools,
            "patterns": self.patterns,
            "adjustments": [list(adjustment) for adjustment in self.adjustments],
            "last_at": self.last_at,
        }
        if self.latest is not None:
            data["latest"] = self.latest
        return data


def state_new(ruleset: RuleSet) -> JourneyState:
    return JourneyState(ruleset=ruleset.fingerprint, patterns=[{} for _ in ruleset.rules])


def state_from_data(data: Any, ruleset: RuleSet) -> JourneyState | None:
    """The stored state, or None when there is none or it was built with other rules
    (or in an older format): then the journey must be folded again."""
    if not isinstance(data, Mapping) or data.get("format") != STATE_FORMAT:
        return None
    if data.get("ruleset") != ruleset.fingerprint or len(data.get("patterns", ())) != len(ruleset.rules):
        return None
    return JourneyState(
        ruleset=ruleset.fingerprint,
        actions=data["actions"],
        tools=data["tools"],
        patterns=[dict(patterns) for patterns in data["patterns"]],
        adjustments=[(points, reason) for points, reason in data["adjustments"]],
        last_at=data.get("last_at", ""),
        latest=data.get("latest"),
    )


def _step_counted(state: JourneyState, step: engine.Step, ruleset: RuleSet) -> tuple[bool, tuple] | None:
    """The part of a step every state keeps: a staff adjustment noted (None is
    returned), or the action (and tool use) counted; then whether the step is a
    repeatable event, and the rules it leaves a pattern for (RuleSet.step_matches)."""
    if step.interaction_type == engine.ADJUSTMENT:
        adjustment = engine.adjustment_of(step.data or {})
        state.adjustments.append((adjustment.points, adjustment.reason))
        return None
    repeatable = step.interaction_type in engine.REPEATABLE_EVENTS
    state.actions += 1
    if not repeatable:
        state.tools += 1
    return repeatable, ruleset.step_matches(
        step.interaction_type, step.data, position=state.actions, tool_position=None if repeatable else state.tools
    )


def journey_step(state: JourneyState, step: engine.Step, ruleset: RuleSet) -> None:
    """Add one step (the journey's newest) to the state, in place."""
    if ruleset.half_life_seconds is not None:
        _journey_step_decaying(state, step, ruleset)
        return
    counted = _step_counted(state, step, ruleset)
    if counted is None:
        return
    repeatable, matches = counted
    for index, pattern in matches:
        seen = state.patterns[index].get(pattern)
        if seen is None:
            seen = state.patterns[index][pattern] = [0, 0]
        if repeatable:
            seen[1] = 1
        else:
            seen[0] += 1


def _journey_step_decaying(state: JourneyState, step: engine.Step, ruleset: RuleSet) -> None:
    """journey_step for a rule set with a half-life: also when each pattern matched."""
    moment = engine.epoch_seconds(step.at)
    if moment is None:
        # The engine would take it as "now", which a state cannot know yet.
        raise ValueError("With decay, each step added to a journey state needs its time (Step.at).")
    if state.latest is None or moment > state.latest:
        state.latest = moment
    counted = _step_counted(state, step, ruleset)
    if counted is None:
        return
    repeatable, matches = counted
    half_life = ruleset.half_life_seconds
    for index, pattern in matches:
        seen = state.patterns[index].get(pattern)
        if seen is None:
            seen = state.patterns[index][pattern] = [0, 0, 0.0, None, None]
        if repeatable:
            seen[1] = 1
            if seen[4] is None or moment > seen[4]:
                seen[4] = moment
        else:
            seen[0] += 1
            if seen[3] is None:
                seen[2], seen[3] = 1.0, moment
            elif moment >= seen[3]:
                # The sum moves to this use's time (the earlier uses weigh less by then), plus this use.
                seen[2], seen[3] = seen[2] * engine.decay_weight(moment - seen[3], half_life) + 1.0, moment
            else:
                # A use older than the last (steps come oldest first, but to be safe): its weight at the last's time.
                seen[2] += engine.decay_weight(seen[3] - moment, half_life)


def journey_state(steps: Iterable[engine.Step], ruleset: RuleSet) -> JourneyState:
    """A whole journey (oldest first) folded into a new state."""
    state = state_new(ruleset)
    for step in steps:
        journey_step(state, step, ruleset)
    return state


def journey_score(
    state: JourneyState,
    ruleset: RuleSet,
    *,
    session_facts: engine.SessionFacts = engine.SessionFacts(),
    thresholds: engine.Thresholds = engine.Thresholds(),
    now: datetime | float | None = None,
) -> engine.ScoreResult:
    """The journey's score, as engine.score_journey gives it for the same steps (with
    the rule set's half-life, as of `now`; None: as of the newest step)."""
    if ruleset.half_life_seconds is not None:
        return _journey_score_decayed(state, ruleset, session_facts=session_facts, thresholds=thresholds, now=now)
    visits = session_facts.as_facts()
    reasons: list[engine.Reason] = []
    best_base: engine.Rule | None = None
    bonuses: list[engine.Reason] = []
    for compiled, patterns in zip(ruleset.compiled, state.patterns):
        if not patterns:
            continue
        rule = compiled.rule
        if compiled.tests_visits:
            holding = [counts for pattern, counts in patterns.items() if compiled.holds(pattern, visits)]
        else:
            holding = list(patterns.values())  # only matching interactions leave a pattern
        if not holding:
            continue
        if rule.kind == engine.BASE:
            if best_base is None or rule.points > best_base.points:
                best_base = rule
        elif rule.per_occurrence:
            count = sum(tools for tools, _ in holding) + any(repeatable for _, repeatable in holding)
            bonuses.append(engine.Reason(rule.name, rule.points * count, count))
        else:
            bonuses.append(engine.Reason(rule.name, rule.points))
    if best_base is not None:
        reasons.append(engine.Reason(best_base.name, best_base.points))
    reasons.extend(bonuses)
    reasons.extend(engine.Reason(f"Adjusted by staff: {reason}", points) for points, reason in state.adjustments)
    return engine.result_of(reasons, thresholds)


def _journey_score_decayed(
    state: JourneyState,
    ruleset: RuleSet,
    *,
    session_facts: engine.SessionFacts,
    thresholds: engine.Thresholds,
    now: datetime | float | None,
) -> engine.ScoreResult:
    """journey_score for a rule set with a half-life (engine._score_journey_decayed)."""
    visits = session_facts.as_facts()
    moments = [moment for moment in (state.latest, engine.epoch_seconds(now)) if moment is not None]
    now_seconds = max(moments, default=0.0)
    half_life = ruleset.half_life_seconds

    def weight(moment: float) -> float:
        return engine.decay_weight(now_seconds - moment, half_life)

    best_base: engine.Reason | None = None
    bonuses: list[engine.Reason] = []
    for compiled, patterns in zip(ruleset.compiled, state.patterns):
        if not patterns:
            continue
        rule = compiled.rule
        if compiled.tests_visits:
            holding = [seen for pattern, seen in patterns.items() if compiled.holds(pattern, visits)]
        else:
            holding = list(patterns.values())
        if not holding:
            continue
        if rule.kind == engine.BASE or not rule.per_occurrence:
            last = max(moment for seen in holding for moment in seen[3:5] if moment is not None)
            points = engine.decayed_points(rule.points, weight(last))
            if rule.kind == engine.BONUS:
                bonuses.append(engine.Reason(rule.name, points))
            elif best_base is None or points > best_base.points:
                best_base = engine.Reason(rule.name, points)
            continue
        weights = sum(seen[2] * weight(seen[3]) for seen in holding if seen[0])
        repeated = [seen[4] for seen in holding if seen[4] is not None]
        if repeated:
            weights += weight(max(repeated))
        count = sum(seen[0] for seen in holding) + bool(repeated)
        bonuses.append(engine.Reason(rule.name, engine.decayed_points(rule.points, weights), count))
    reasons = [best_base] if best_base is not None else []
    reasons.extend(bonuses)
    reasons.extend(engine.Reason(f"Adjusted by staff: {reason}", points) for points, reason in state.adjustments)
    return engine.result_of(reasons, thresholds)
