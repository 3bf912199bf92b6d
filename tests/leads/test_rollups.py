"""The dashboard's daily roll-up gives exactly the live figures: rolled up, half
rolled up, after late rows, conversions and the purge."""

import datetime

import pytest
from django.utils import timezone

from interactions.models import UserInteraction, UserSession
from leads import rollups, selectors
from leads.models import DailyInteractionCount, Lead, RolledUpDay

pytestmark = pytest.mark.django_db


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def rows(today):
    """Visitors on both sides of the period's first midnight, yesterday and today, some
    who only read pages, one who came back days later to use a tool, one lead."""
    first = today - datetime.timedelta(days=6)
    made = []
    for offset, (hour, kinds, source) in enumerate([
        (23, ["page_engagement"], "google"),                   # the day before the period
        (0, ["search", "page_engagement"], "google"),           # the period's first minute
        (12, ["ai_recommendation"], ""),
        (23, ["page_engagement", "face_analysis"], "facebook"),
    ]):
        day = first - datetime.timedelta(days=1) if offset == 0 else first + datetime.timedelta(days=offset)
        at = local(day, hour, 59 if hour == 23 else 0)
        session = UserSession.objects.create(created_at=at, last_seen_at=at, utm_source=source)
        for kind in kinds:
            UserInteraction.objects.create(session=session, interaction_type=kind, created_at=at)
        made.append(session)
    for hour in (0, 1):  # today, counted live
        at = timezone.now().replace(hour=hour, minute=5) if timezone.localtime().hour >= 2 else timezone.now()
        session = UserSession.objects.create(created_at=at, last_seen_at=at)
        UserInteraction.objects.create(session=session, interaction_type="cost_calculator", created_at=at)
    lead = Lead.objects.create(email="p@example.com", created_at=local(first + datetime.timedelta(days=2), 13))
    UserInteraction.objects.filter(session=made[2]).update(lead=lead, converted=True)
    made[2].lead = lead
    made[2].save(update_fields=["lead"])
    return made


def figures(period):
    daily = period.daily_counts()
    return (
        selectors.overview(period=period, daily=daily), selectors.overview(period=period.previous(), daily=daily),
        selectors.funnel(period=period, daily=daily), selectors.attribution(period=period, daily=daily),
        selectors.interactions_per_day(period=period, daily=daily),
    )


def live(period, monkeypatch):
    with monkeypatch.context() as patch:
        # Nothing may be rolled up: every day is counted from the rows.
        patch.setattr(rollups, "last_complete_day", lambda now=None: datetime.date(1970, 1, 1))
        return figures(period)


@pytest.fixture
def period(today):
    return selectors.period_for_days(today - datetime.timedelta(days=6), today)


def test_rolled_up_figures_are_the_live_figures(rows, period, monkeypatch):
    expected = live(period, monkeypatch)
    assert not RolledUpDay.objects.exists()
    assert figures(period) == expected
    assert RolledUpDay.objects.filter(day__lt=timezone.localdate()).exists()
    assert not RolledUpDay.objects.filter(day=timezone.localdate()).exists()
    assert figures(period) == expected  # read again from the roll-up alone


def test_a_returning_visitor_and_a_backdated_row_send_their_days_back(rows, period, monkeypatch):
    figures(period)
    old = rows[1]
    UserInteraction.objects.create(session=old, interaction_type="face_analysis", created_at=timezone.now())
    UserInteraction.objects.create(session=rows[3], interaction_type="search", created_at=rows[3].created_at)
    UserSession.objects.create(created_at=rows[2].created_at, last_seen_at=rows[2].created_at, utm_source="x")
    expected = live(period, monkeypatch)
    assert figures(period) == expected
    assert expected[2][1].count == 5  # every visitor of the period who used something, today's too


def test_a_conversion_of_old_interactions_is_counted_again(rows, period, monkeypatch):
    from leads.services import create_lead_from_form

    figures(period)
    session = rows[3]
    create_lead_from_form(session=session, data={"first_name": "A", "email": "a@example.com", "consent_contact": True})
    assert UserInteraction.objects.filter(session=session, converted=True).count() == 2
    assert figures(period) == live(period, monkeypatch)


def test_the_purge_forgets_the_days_it_deletes_from(rows, period, monkeypatch, settings):
    from leads.gdpr import purge_expired

    settings.VISITOR_RETENTION_DAYS = 3
    figures(period)
    summary = purge_expired()
    assert summary.sessions >= 2
    assert figures(period) == live(period, monkeypatch)


def log_summary(settings, *, live: bool = False):
    """The interaction log's summary of the whole log: from the roll-up, or (live) counted
    from every row, as a filtered list is."""
    from interactions.models import UserInteraction
    from interactions.selectors import interaction_summary

    if live:
        settings.INTERACTION_LOG_TOTALS = None
    try:
        return sorted(interaction_summary(UserInteraction.objects.all()), key=lambda row: row.label)
    finally:
        settings.INTERACTION_LOG_TOTALS = "leads.rollups.interaction_totals"


def test_the_whole_logs_summary_from_the_roll_up_is_the_live_one(rows, settings):
    for number, interaction in enumerate(UserInteraction.objects.order_by("pk")):
        interaction.score = 7 * number % 101
        interaction.save(update_fields=["score"])
    # Dated ahead (a clock ahead): counted with the live part all the same.
    UserInteraction.objects.create(session=rows[0], interaction_type="search", score=55,
                                   created_at=timezone.now() + datetime.timedelta(days=2))
    expected = log_summary(settings, live=True)
    assert {row.label for row in expected} >= {"Search", "Page engagement", "Cost calculator"}
    assert any(row.average_score % 1 for row in expected)

    assert log_summary(settings) == expected
    assert RolledUpDay.objects.filter(day__lt=timezone.localdate()).exists()
    assert log_summary(settings) == expected  # read again from the roll-up

    # A late row for a day already rolled up, and a conversion: counted again.
    UserInteraction.objects.create(session=rows[1], interaction_type="search", score=90, created_at=rows[1].created_at)
    from leads.services import create_lead_from_form
    create_lead_from_form(session=rows[3], data={"email": "b@example.com", "consent_contact": True})
    assert log_summary(settings) == log_summary(settings, live=True)


def test_a_filtered_log_is_counted_from_its_rows(rows, settings):
    from interactions.models import UserInteraction
    from interactions.selectors import interaction_summary

    settings.INTERACTION_LOG_TOTALS = "no.such.module"  # never imported for a filtered list
    summary = interaction_summary(UserInteraction.objects.filter(interaction_type="page_engagement"))
    assert [(row.label, row.interactions) for row in summary] == [("Page engagement", 3)]


def test_an_empty_log_has_an_empty_summary(settings):
    assert log_summary(settings) == []


def test_the_purge_forgets_only_the_days_it_deleted_from(rows, period, settings):
    from leads.gdpr import purge_expired

    figures(period)
    rolled = set(RolledUpDay.objects.values_list("day", flat=True))
    settings.VISITOR_RETENTION_DAYS = 30  # older than every visitor here: nothing to delete
    assert purge_expired().sessions == 0
    assert set(RolledUpDay.objects.values_list("day", flat=True)) == rolled

    settings.VISITOR_RETENTION_DAYS = 3
    assert purge_expired().sessions >= 2
    purged = [session for session in rows if not UserSession.objects.filter(pk=session.pk).exists()]
    # Each of these visitors' interactions is on the day they arrived.
    assert rolled - set(RolledUpDay.objects.values_list("day", flat=True)) == {
        timezone.localdate(session.created_at) for session in purged
    }
