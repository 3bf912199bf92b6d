"""manage.py seed_demo builds the report's demo through the real code paths."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from interactions.models import UserInteraction, UserSession
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo):
    return demo


def lead_named(first, last):
    return Lead.objects.get(first_name=first, last_name=last)


def test_the_reports_patients_have_the_reports_scores(seeded):
    assert lead_named("Sarah", "Chen").lead_score == 85
    assert lead_named("Anita", "Reddy").lead_score == 85
    # 88 is not a sum of the default rules (all multiples of 5): 80 + 5 is the nearest.
    assert lead_named("Priya", "Sharma").lead_score == 85


def test_each_demo_lead_came_from_its_tool(seeded):
    assert lead_named("Sarah", "Chen").interaction.interaction_type == "ai_recommendation"
    assert lead_named("Priya", "Sharma").interaction.interaction_type == "face_analysis"
    assert lead_named("Anita", "Reddy").interaction.interaction_type == "cost_calculator"


def test_the_anonymous_visitor_has_three_progressive_interactions(seeded):
    session = UserSession.objects.filter(utm_source="instagram", lead__isnull=True, interaction_count=3).first()
    scores = list(session.interactions.order_by("created_at").values_list("score", flat=True))
    assert scores == sorted(scores) and scores[0] < scores[-1]


def test_there_are_weeks_of_traffic_for_the_analytics(seeded):
    assert UserInteraction.objects.count() >= 300
    assert Lead.objects.count() >= 20
    assert Lead.objects.exclude(status="new").exists()
    assert UserSession.objects.values("utm_source").distinct().count() >= 4
    first = UserInteraction.objects.order_by("created_at").first().created_at
    last = UserInteraction.objects.order_by("created_at").last().created_at
    assert (last - first).days >= 14


def test_every_demo_lead_has_reached_the_stages_its_history_shows(seeded):
    """The demo moves leads along the pipeline (some lost after a booking): each lead's
    stored furthest stage says what its history says, so the dashboard's funnel does."""
    pipeline = ["new", "contacted", "qualified", "booked", "won"]
    reached = set()
    for lead in Lead.objects.prefetch_related("status_changes"):
        history = [pipeline.index(c.to_status) for c in lead.status_changes.all() if c.to_status in pipeline]
        assert lead.furthest_stage == pipeline[max(history, default=0)], lead.pk
        if lead.status == "lost":
            reached.add(lead.furthest_stage)
    assert len(reached) >= 2  # lost leads that had got to different stages


def test_every_stored_score_is_what_the_rules_give(seeded):
    from interactions.tracker import journey_session_facts, journey_stored_steps
    from scoring.engine import score_journey
    from scoring.services import scoring_config

    for lead in Lead.objects.all()[:15]:
        session = lead.sessions.order_by("-last_seen_at").first()
        config = scoring_config()
        result = score_journey(
            [step for _, step in journey_stored_steps(session)],
            session_facts=journey_session_facts(session=session), rules=config.rules, thresholds=config.thresholds,
        )
        assert lead.lead_score == result.points


def test_running_it_twice_changes_nothing(seeded):
    counts = (UserSession.objects.count(), UserInteraction.objects.count(), Lead.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already there" in out.getvalue()
    assert (UserSession.objects.count(), UserInteraction.objects.count(), Lead.objects.count()) == counts


def test_reset_rebuilds_the_same_demo(seeded):
    counts = (UserSession.objects.count(), UserInteraction.objects.count(), Lead.objects.count())
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert (UserSession.objects.count(), UserInteraction.objects.count(), Lead.objects.count()) == counts


def test_it_prints_a_working_admin_login(seeded, client):
    assert "user: admin  password: admin" in seeded
    assert client.login(username="admin", password="admin")


def test_it_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="not in production"):
        call_command("seed_demo", stdout=StringIO())


def test_the_demo_interactions_use_the_slugs_the_tools_write(seeded):
    from calculators.models import Procedure
    from calculators.vocabulary import AREAS, CONCERNS
    from scoring.engine import BUDGET_LEVELS, URGENCY_LEVELS

    procedures = set(Procedure.objects.values_list("slug", flat=True))
    categories = set(Procedure.objects.values_list("category", flat=True))
    unknown = set()
    for data in UserInteraction.objects.values_list("data", flat=True):
        unknown |= {("procedure", slug) for slug in data.get("procedures", []) if slug not in procedures}
        unknown |= {("category", slug) for slug in data.get("categories", []) if slug not in categories}
        unknown |= {("concern", slug) for slug in data.get("concerns", []) if slug not in CONCERNS}
        unknown |= {("area", slug) for slug in data.get("areas", []) if slug not in AREAS}
        if "budget_level" in data and data["budget_level"] not in BUDGET_LEVELS:
            unknown.add(("budget level", data["budget_level"]))
        if "urgency" in data and data["urgency"] not in URGENCY_LEVELS:
            unknown.add(("urgency", data["urgency"]))
    assert not unknown


def history_counts():
    from leads.synthetic import SYNTHETIC_EMAIL_DOMAIN

    return (
        UserSession.objects.count(),
        UserInteraction.objects.count(),
        Lead.objects.filter(email__endswith="@" + SYNTHETIC_EMAIL_DOMAIN).count(),
    )


def test_history_adds_a_synthetic_history_once(seeded):
    before = history_counts()
    out = StringIO()
    call_command("seed_demo", "--history", "--history-visitors", "150", stdout=out)
    assert "Synthetic history created" in out.getvalue() and "150 visitors" in out.getvalue()
    made = history_counts()
    assert made[0] == before[0] + 150 and made[2] > 20
    out = StringIO()
    call_command("seed_demo", "--history", "--history-visitors", "150", stdout=out)
    assert "Synthetic history is already there" in out.getvalue()
    assert history_counts() == made


def test_reset_with_history_rebuilds_the_history_too(seeded):
    call_command("seed_demo", "--history", "--history-visitors", "150", stdout=StringIO())
    made = history_counts()
    out = StringIO()
    call_command("seed_demo", "--reset", "--history", "--history-visitors", "150", stdout=out)
    assert "Removed 150 synthetic history visitors." in out.getvalue()
    assert history_counts() == made


def test_plain_seed_demo_makes_no_history(seeded):
    from leads.synthetic import history_present

    assert not history_present()
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert not history_present()
