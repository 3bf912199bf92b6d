"""leads.synthetic: a clinic history whose true conversion mechanism is known, written
through the real import and lead paths, on which calibration and the conversion model
will be proven."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from calculators.vocabulary import CONCERNS
from clinic.demo import history_catalog
from interactions.models import UserSession
from leads.models import Lead, LeadStatus, LeadStatusChange
from leads.outcomes import outcome_labels
from leads.synthetic import (
    FLEXIBLE,
    IMMEDIATE,
    MID,
    SOON,
    SYNTHETIC_EMAIL_DOMAIN,
    Mechanism,
    Traits,
    conversion_probability,
    history_generate,
    history_plan,
    history_remove,
    rule_truth,
    rules_by_true_effect,
)
from scoring.engine import BUDGET_LEVELS, URGENCY_LEVELS

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Written to the database once for the module: about 400 leads, 350 with an outcome.
DB_VISITORS = 1000
DB_SEED = 7
# Planned only (no database): enough leads for tight margins.
LARGE_VISITORS = 12_000
STALE_AFTER_DAYS = 60
THE_TABLES_FAVOURITES = ["Face analysis", "High engagement time", "Each further interaction", "High budget",
                         "Multiple procedures", "Appointment booking"]


def neutral(**changes) -> Traits:
    """A lead with no trait the default mechanism rewards or punishes."""
    traits = dict(urgency=FLEXIBLE, price_band=MID, visit_count=1, face_analysis=False, budget_level="medium",
                  engagement_seconds=60, tool_uses=1, procedure_count=1, booking_request=False, urgency_stated=True)
    return Traits(**{**traits, **changes})


def rates(pairs) -> dict:
    """Conversion rate and count by group, from (group, converted) pairs."""
    groups = defaultdict(list)
    for group, converted in pairs:
        groups[group].append(converted)
    return {group: (sum(values) / len(values), len(values)) for group, values in groups.items()}


def difference(table: dict, high, low) -> float:
    return table[high][0] - table[low][0]


@pytest.fixture
def catalog(db):
    return history_catalog()


@pytest.fixture(scope="module")
def _history_once(django_db_setup, django_db_blocker):
    """The test-size history, written once (it takes a few seconds); each test runs in
    its own transaction on top of it."""
    from scoring.services import scoring_config_forget

    scoring_config_forget()
    with django_db_blocker.unblock():
        catalog = history_catalog()
        plan = history_plan(catalog=catalog, visitors=DB_VISITORS, seed=DB_SEED, now=NOW)
        made = history_generate(catalog=catalog, visitors=DB_VISITORS, seed=DB_SEED, now=NOW)
    yield plan, made
    with django_db_blocker.unblock():
        history_remove()


@pytest.fixture
def history(_history_once, db):
    """(the plan, what history_generate returned) for the module's history."""
    return _history_once


def test_a_leads_true_probability_is_the_logistic_of_the_mechanism():
    mechanism = Mechanism()
    assert conversion_probability(mechanism, neutral()) == pytest.approx(1 / (1 + 2.718281828 ** 1.2), abs=1e-6)
    assert (conversion_probability(mechanism, neutral(urgency=IMMEDIATE))
            > conversion_probability(mechanism, neutral(urgency=SOON))
            > conversion_probability(mechanism, neutral()))
    assert conversion_probability(mechanism, neutral(visit_count=2)) > conversion_probability(mechanism, neutral())
    assert (conversion_probability(mechanism, neutral(price_band="entry"))
            > conversion_probability(mechanism, neutral())
            > conversion_probability(mechanism, neutral(price_band="premium")))


def test_what_the_table_rewards_has_no_true_effect_by_default():
    mechanism = Mechanism()
    base = conversion_probability(mechanism, neutral())
    rewarded = neutral(face_analysis=True, budget_level="high", engagement_seconds=900, tool_uses=5,
                       procedure_count=2, booking_request=True)
    assert conversion_probability(mechanism, rewarded) == base
    assert conversion_probability(Mechanism(face_analysis=1.0), neutral(face_analysis=True)) > base


def test_the_truth_ranks_urgency_and_returning_above_what_the_table_rewards():
    ranking = rules_by_true_effect(Mechanism())
    assert set(ranking[:2]) == {"Immediate urgency", "Returning visitor"}
    for name in THE_TABLES_FAVOURITES:
        assert ranking.index(name) > 1 and rule_truth(Mechanism())[name] == 0
    assert rules_by_true_effect(Mechanism(face_analysis=3.0))[0] == "Face analysis"


def test_the_same_seed_plans_the_same_history(catalog):
    first = history_plan(catalog=catalog, visitors=200, seed=11, now=NOW)
    assert history_plan(catalog=catalog, visitors=200, seed=11, now=NOW) == first
    assert history_plan(catalog=catalog, visitors=200, seed=12, now=NOW).rows != first.rows


def test_the_plan_looks_like_real_traffic(catalog):
    plan = history_plan(catalog=catalog, visitors=DB_VISITORS, seed=DB_SEED, now=NOW)
    rows = plan.rows
    moments = [datetime.fromisoformat(row["timestamp"]) for row in rows]
    local = [moment.astimezone(NOW.tzinfo) for moment in moments]
    assert len({row["utm_source"] for row in rows if "utm_source" in row}) >= 6
    assert len({moment.date() for moment in local}) >= 250  # a year, most days with visitors
    assert max(moments) < NOW and min(moments) > NOW - timedelta(days=380)
    assert len({moment.hour for moment in local}) >= 15
    slugs = {item.slug for item in catalog}
    assert {slug for row in rows for slug in row.get("procedures", [])} <= slugs
    assert len({slug for row in rows for slug in row.get("procedures", [])}) >= 25
    assert {concern for row in rows for concern in row.get("concerns", [])} <= set(CONCERNS)
    assert {row["urgency"] for row in rows if "urgency" in row} == set(URGENCY_LEVELS)
    assert {row["budget_level"] for row in rows if "budget_level" in row} == set(BUDGET_LEVELS)
    assert len({row["type"] for row in rows}) == 7  # every tool, searches, pages, contact
    assert all(row["email"].endswith("@" + SYNTHETIC_EMAIL_DOMAIN) for row in rows if "email" in row)


def test_a_visitors_visits_are_separated_by_more_than_the_visit_gap(catalog):
    plan = history_plan(catalog=catalog, visitors=300, seed=DB_SEED, now=NOW)
    times = defaultdict(list)
    for row in plan.rows:
        times[row["session_id"]].append(datetime.fromisoformat(row["timestamp"]))
    gap = timedelta(seconds=settings.VISIT_GAP_SECONDS)
    for lead in plan.leads:
        moments = sorted(times[lead.session_id])
        visits = 1 + sum(later - earlier > gap for earlier, later in zip(moments, moments[1:]))
        assert visits == lead.traits.visit_count
    assert {lead.traits.visit_count for lead in plan.leads} >= {1, 2, 3}


def test_in_a_large_history_conversion_follows_the_mechanism_not_the_table(catalog):
    """Planned only, 12,000 visitors (some 4,800 leads): margins of three standard errors or more."""
    leads = history_plan(catalog=catalog, visitors=LARGE_VISITORS, seed=3, now=NOW).leads
    assert len(leads) > 4500
    urgency = rates((lead.traits.urgency, lead.converts) for lead in leads)
    assert difference(urgency, IMMEDIATE, FLEXIBLE) > 0.3
    assert difference(urgency, SOON, FLEXIBLE) > 0.05
    band = rates((lead.traits.price_band, lead.converts) for lead in leads)
    assert difference(band, "entry", "mid") > 0.05 and difference(band, "mid", "premium") > 0.1
    returning = rates((lead.traits.visit_count >= 2, lead.converts) for lead in leads)
    assert difference(returning, True, False) > 0.2
    for trait in (
        lambda t: t.face_analysis, lambda t: t.budget_level == "high", lambda t: t.engagement_seconds >= 180,
        lambda t: t.tool_uses >= 2, lambda t: t.procedure_count >= 2, lambda t: t.booking_request,
    ):
        assert abs(difference(rates((trait(lead.traits), lead.converts) for lead in leads), True, False)) < 0.05


@pytest.mark.django_db
def test_every_row_passes_through_the_importer(history):
    plan, made = history
    assert made.rejected == 0, made.rejections[:3]
    assert made.interactions == len(plan.rows)
    assert made.visitors == DB_VISITORS and made.leads == len(plan.leads) > 300
    assert made.converted + made.lost + made.open == made.leads
    assert Lead.objects.filter(email__endswith="@" + SYNTHETIC_EMAIL_DOMAIN).count() == made.leads
    assert set(made.probabilities) == set(made.traits) == set(
        Lead.objects.filter(email__endswith="@" + SYNTHETIC_EMAIL_DOMAIN).values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_importer_counts_the_visits_the_plan_made(history):
    _, made = history
    visits = defaultdict(int)
    for lead_id, visit_count in UserSession.objects.filter(lead_id__in=list(made.traits)).values_list(
            "lead_id", "visit_count"):
        visits[lead_id] += visit_count
    assert visits == {lead_id: traits.visit_count for lead_id, traits in made.traits.items()}


@pytest.mark.django_db
def test_the_scores_are_the_rules_scores(history):
    from interactions.tracker import journey_session_facts, journey_stored_steps
    from scoring.engine import score_journey
    from scoring.services import scoring_config

    _, made = history
    config = scoring_config()
    leads = Lead.objects.filter(pk__in=list(made.traits)).order_by("pk")[:25]
    for lead in leads:
        session = lead.sessions.order_by("-last_seen_at").first()
        result = score_journey([step for _, step in journey_stored_steps(session)],
                               session_facts=journey_session_facts(session=session), rules=config.rules,
                               thresholds=config.thresholds)
        assert lead.lead_score == result.points
    assert len(set(Lead.objects.filter(pk__in=list(made.traits)).values_list("lead_score", flat=True))) >= 4


@pytest.mark.django_db
def test_outcomes_come_after_the_lead_through_the_status_history(history):
    _, made = history
    leads = Lead.objects.filter(pk__in=list(made.traits))
    created = dict(leads.values_list("pk", "created_at"))
    changes = LeadStatusChange.objects.filter(lead_id__in=list(created)).values_list("lead_id", "changed_at")
    assert changes.exists()
    assert all(created[lead_id] < changed_at < NOW for lead_id, changed_at in changes)
    statuses = set(leads.values_list("status", flat=True))
    assert statuses == {LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.BOOKED,
                        LeadStatus.WON, LeadStatus.LOST}
    assert leads.filter(status=LeadStatus.LOST, furthest_stage=LeadStatus.BOOKED).exists()
    assert leads.filter(status=LeadStatus.WON, value__gt=0).exists()


@pytest.mark.django_db
def test_the_known_outcomes_are_the_planned_ones(history):
    plan, made = history
    planned = {lead.email: lead.converts for lead in plan.leads}
    email_of = dict(Lead.objects.filter(pk__in=list(made.traits)).values_list("pk", "email"))
    labels = [label for label in outcome_labels(as_of=NOW, stale_after_days=STALE_AFTER_DAYS)
              if label.lead_id in email_of]
    assert len(labels) > 300
    assert all(label.converted == planned[email_of[label.lead_id]] for label in labels)
    assert sum(label.converted for label in labels) == made.converted


@pytest.mark.django_db
def test_observed_conversion_follows_the_mechanism(history):
    """On the database's known outcomes (some 350 leads): only the large effects, with
    margins of about three standard errors."""
    _, made = history
    labels = [(made.traits[label.lead_id], label.converted)
              for label in outcome_labels(as_of=NOW, stale_after_days=STALE_AFTER_DAYS)
              if label.lead_id in made.traits]
    urgency = rates((traits.urgency, converted) for traits, converted in labels)
    assert difference(urgency, IMMEDIATE, FLEXIBLE) > 0.2
    returning = rates((traits.visit_count >= 2, converted) for traits, converted in labels)
    assert difference(returning, True, False) > 0.15
    face = rates((traits.face_analysis, converted) for traits, converted in labels)
    assert difference(face, True, False) < 0.1
