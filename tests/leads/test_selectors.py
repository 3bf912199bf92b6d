"""Dashboard arithmetic on a small data set whose answers are worked out by hand."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from interactions.services import session_start
from interactions.tracker import contact_prompt_shown, track_user_interaction
from leads import selectors
from leads.models import CampaignCost, Lead, LeadStatus
from leads.services import create_lead_from_form, lead_update_status

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2026, 11, 1)
LAST = datetime.date(2026, 11, 30)


def at(day: int, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2026, 11, day, hour))


def visitor(day, source="", medium="", campaign=""):
    return session_start(
        landing_page="/", utm={"utm_source": source, "utm_medium": medium, "utm_campaign": campaign},
        started_at=at(day),
    )


def lead(session, interaction, day, n):
    return create_lead_from_form(
        session=session, interaction=interaction, occurred_at=at(day, 13),
        data={"first_name": f"P{n}", "email": f"p{n}@example.com", "consent_contact": True},
    )


@pytest.fixture
def data():
    """Six visitors in November, one in October (outside the period).

    google/cpc/botox: 3 visitors -> 2 leads: one won (800), one lost after being booked.
    facebook/paid_social/glow: 1 visitor, browsed only.
    direct: 2 visitors -> 1 lead, contacted; 1 page view only.
    """
    g1, g2, g3 = (visitor(day, "google", "cpc", "botox") for day in (2, 3, 4))
    fb = visitor(5, "facebook", "paid_social", "glow")
    d1, d2 = visitor(6), visitor(7)
    old = visitor(1, "google", "cpc", "botox")
    old.created_at = timezone.make_aware(datetime.datetime(2026, 10, 20))
    old.save(update_fields=["created_at"])

    i1 = track_user_interaction(g1, "ai_recommendation", {"urgency": "immediate"}, occurred_at=at(2))  # 85
    i2 = track_user_interaction(g2, "face_analysis", {}, occurred_at=at(3))                            # 80
    track_user_interaction(g3, "search", {}, occurred_at=at(4))
    contact_prompt_shown(g3, page="/treatments/")
    track_user_interaction(fb, "page_engagement", {}, occurred_at=at(5))
    track_user_interaction(fb, "cost_calculator", {"procedures": ["a", "b"]}, occurred_at=at(5, 13))   # 70+15+5
    i4 = track_user_interaction(d1, "ai_recommendation", {}, occurred_at=at(6))                        # 60
    track_user_interaction(d2, "page_engagement", {}, occurred_at=at(7))

    won = lead(g1, i1, 2, 1)
    for status in (LeadStatus.CONTACTED, LeadStatus.BOOKED):
        lead_update_status(lead=won, status=status)
    lead_update_status(lead=won, status=LeadStatus.WON, value=Decimal("800"))
    lost = lead(g2, i2, 3, 2)
    lead_update_status(lead=lost, status=LeadStatus.BOOKED)
    lead_update_status(lead=lost, status=LeadStatus.LOST)
    direct = lead(d1, i4, 6, 3)
    lead_update_status(lead=direct, status=LeadStatus.CONTACTED)

    CampaignCost.objects.create(utm_source="google", utm_campaign="botox", spent_on=FIRST, amount=Decimal("300"))
    CampaignCost.objects.create(utm_source="google", utm_campaign="botox", spent_on=datetime.date(2026, 10, 1),
                                amount=Decimal("999"))


@pytest.fixture
def period():
    return selectors.period_for_days(FIRST, LAST)


def test_overview_counts_sessions_interactions_and_conversion_by_tool(data, period):
    result = selectors.overview(period=period)
    assert (result.sessions, result.interactions, result.leads, result.high_intent_leads) == (6, 7, 3, 2)
    tools = {row.interaction_type: (row.interactions, row.converted) for row in result.by_tool}
    assert tools == {"ai_recommendation": (2, 2), "face_analysis": (1, 1), "cost_calculator": (1, 0),
                     "appointment_booking": (0, 0)}
    assert result.session_to_lead_percent == 50.0
    assert result.interaction_to_lead_percent == 75.0


def test_the_funnel_counts_leads_that_ever_reached_a_stage(data, period):
    steps = {step.label: step.count for step in selectors.funnel(period=period)}
    assert steps == {
        "Visitors": 6,
        "Used a tool or searched": 5,
        "Offered the contact form": 4,
        "Became leads": 3,
        "Contacted": 3,   # the lost lead was booked, so contacted too
        "Booked": 2,
        "Won": 1,
    }
    first = selectors.funnel(period=period)
    assert first[3].percent_of_first == 50.0 and first[3].percent_of_previous == 75.0


def test_a_lead_moved_back_a_stage_still_counts_at_the_furthest_it_reached(data, period):
    """Staff move the direct lead on to booked, then back to contacted (booked by
    mistake, or the booking fell through): it was booked, and the funnel and its
    campaign's row keep saying so."""
    direct = Lead.objects.get(email="p3@example.com")
    lead_update_status(lead=direct, status=LeadStatus.BOOKED)
    lead_update_status(lead=direct, status=LeadStatus.CONTACTED)
    steps = {step.label: step.count for step in selectors.funnel(period=period)}
    assert (steps["Contacted"], steps["Booked"], steps["Won"]) == (3, 3, 1)
    rows = {(r.utm_source, r.utm_campaign): r for r in selectors.attribution(period=period)}
    assert (rows[("", "")].booked, rows[("", "")].won) == (1, 0)


def test_score_distribution_and_levels(data, period):
    result = selectors.score_distribution(period=period)
    bands = dict(result.bands)
    assert (bands["60-69"], bands["80-89"]) == (1, 2)
    assert sum(bands.values()) == 3
    assert dict(result.levels) == {"Low": 0, "Medium": 1, "High": 2}
    assert result.average == round((85 + 80 + 60) / 3, 1)


def test_attribution_and_roi_by_campaign(data, period):
    rows = {(r.utm_source, r.utm_campaign): r for r in selectors.attribution(period=period)}
    google = rows[("google", "botox")]
    assert (google.sessions, google.leads, google.booked, google.won) == (3, 2, 2, 1)
    assert google.won_value == Decimal("800")
    assert google.spend == Decimal("300")  # October's spend is outside the period
    assert google.cost_per_lead == Decimal("150.00")
    assert google.return_on_spend == Decimal("500")
    assert google.roi_percent == pytest.approx(166.7)
    assert rows[("facebook", "glow")].leads == 0 and rows[("facebook", "glow")].spend is None
    assert (rows[("", "")].sessions, rows[("", "")].leads) == (2, 1)


def test_interactions_per_day_cover_every_day_of_the_period(data, period):
    days = selectors.interactions_per_day(period=period)
    assert len(days) == 30
    by_day = {row.day: row.total for row in days}
    assert by_day[datetime.date(2026, 11, 5)] == 2
    assert by_day[datetime.date(2026, 11, 20)] == 0
    assert sum(by_day.values()) == 7


def test_the_previous_period_is_the_same_length_just_before(period):
    previous = period.previous()
    assert previous.end == period.start and previous.days == 30


def test_rule_performance_counts_booked_and_won_leads(visitor, contact):
    track_user_interaction(visitor, "ai_recommendation", {"urgency": "immediate"})
    lead = create_lead_from_form(session=visitor, data=contact)
    lead_update_status(lead=lead, status=LeadStatus.BOOKED)
    lead_update_status(lead=lead, status=LeadStatus.LOST)
    rows, baseline = selectors.rule_performance(rule_names=["Immediate urgency", "High budget"])
    performance = {row.rule: row for row in rows}
    assert (performance["Immediate urgency"].leads, performance["Immediate urgency"].booked,
            performance["Immediate urgency"].won) == (1, 1, 0)
    assert performance["High budget"].leads == 0 and performance["High budget"].booked_percent is None
    assert baseline.booked_percent == 100.0


def test_rule_performance_counted_in_the_database_matches_reading_every_lead(db):
    """The page's figures as the Python loop over every lead's reasons gave them, on
    reasons of every shape a lead may hold."""
    from leads.models import Lead

    reasons = [
        [{"rule": "High budget", "points": 20}, {"rule": "High budget", "points": 20}],
        [{"rule": "High budget"}, {"rule": "Immediate urgency"}, "not a reason", 7],
        {"rule": "High budget"},
        "a string, not a list",
        [{"rule": 5}, {"points": 3}],
        [{"rule": "Immediate urgency"}],
        [],
    ]
    statuses = [LeadStatus.WON, LeadStatus.LOST, LeadStatus.BOOKED, LeadStatus.NEW, LeadStatus.CONTACTED,
                LeadStatus.LOST, LeadStatus.QUALIFIED]
    leads = [Lead.objects.create(email=f"r{n}@example.com", status=status, score_reasons=reason)
             for n, (reason, status) in enumerate(zip(reasons, statuses))]
    # Moved the only way the product moves a lead: the history and the lead row together.
    for lead, way in ((leads[1], ["booked", "lost"]), (leads[5], ["contacted", "lost"])):
        for status in way:
            lead_update_status(lead=lead, status=status)
    names = ["High budget", "Immediate urgency", "5", "Unused rule"]

    def booked(lead):
        return lead.status in ("booked", "won") or lead.status_changes.filter(to_status__in=["booked", "won"]).exists()

    expected = {name: [0, 0, 0] for name in names}
    for lead in leads:
        for name in {r.get("rule") for r in lead.score_reasons or [] if isinstance(r, dict)}:
            if name in expected:
                expected[name][0] += 1
                expected[name][1] += booked(lead)
                expected[name][2] += lead.status == "won"
    rows, baseline = selectors.rule_performance(rule_names=names)
    assert {row.rule: [row.leads, row.booked, row.won] for row in rows} == expected
    assert (baseline.leads, baseline.booked, baseline.won) == (7, 3, 1)
