"""What one tracked event costs the database: a few queries, whatever the length of
the visitor's journey (issue 11). BEGIN/COMMIT and the test's savepoints are not
counted; every statement the request sends is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interactions.models import UserInteraction, UserSession
from leads.services import create_lead_from_form
from tests.factories import scoring_rule_change

pytestmark = pytest.mark.django_db
URL = "/api/v1/track/"
MAX_QUERIES = 4


def track(browser, **event):
    """POST one event; returns the answer and the SQL it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = browser.post(URL, {"event": "page_engagement", "page_url": "/treatments/", **event},
                                content_type="application/json", HTTP_X_CSRFTOKEN=browser.token)
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]
    return response.json(), statements


def reads_the_journey(statements):
    return [sql for sql in statements if sql.startswith("SELECT") and "interactions_userinteraction" in sql]


def test_an_event_costs_at_most_four_queries_and_never_reads_the_journey(visitor_browser):
    track(visitor_browser)  # the process reads the rules once (scoring.services.scoring_config)
    for _ in range(5):
        _, statements = track(visitor_browser, engagement_seconds=10)
        assert len(statements) <= MAX_QUERIES, statements
        assert not reads_the_journey(statements)


def test_the_two_thousandth_event_costs_what_the_first_did(visitor_browser):
    track(visitor_browser)
    _, first = track(visitor_browser, engagement_seconds=1)
    session = UserSession.objects.get()
    UserInteraction.objects.bulk_create(UserInteraction(session=session, interaction_type="page_engagement")
                                        for _ in range(1998))
    # The state counts what the tracker saw; the bulk rows above only have to be there.
    answer, later = track(visitor_browser, engagement_seconds=1)
    assert len(later) == len(first)
    assert not reads_the_journey(later)
    assert answer["score"] == UserSession.objects.get().score


def test_a_leads_browser_costs_at_most_four_queries_too(visitor_browser, contact):
    track(visitor_browser, engagement_seconds=200)
    create_lead_from_form(session=UserSession.objects.get(), data=contact)
    _, statements = track(visitor_browser, engagement_seconds=10)
    assert len(statements) <= MAX_QUERIES, statements
    assert not reads_the_journey(statements)


def test_after_a_rule_change_the_next_event_reads_the_journey_once_and_scores_with_the_new_rules(visitor_browser):
    first, _ = track(visitor_browser, engagement_seconds=200)
    assert first["score"] == 15  # "High engagement time": 180 seconds or more
    scoring_rule_change("High engagement time", points=25)

    answer, statements = track(visitor_browser, engagement_seconds=1)
    assert answer["score"] == 25
    assert len(reads_the_journey(statements)) == 1  # the state was built with the old rules
    _, statements = track(visitor_browser, engagement_seconds=1)
    assert not reads_the_journey(statements)


def test_an_event_that_loses_the_race_for_its_leads_journey_is_scored_again(visitor_browser, contact, monkeypatch):
    """Two browsers of one lead: the lead's state is written only over the version that
    was read. When another write came first, the event is scored again, stored once."""
    from django.db.models import F

    from leads import receivers
    from leads.models import Lead

    track(visitor_browser, engagement_seconds=200)
    lead = create_lead_from_form(session=UserSession.objects.get(), data=contact)
    calls = []
    apply_score = receivers.lead_apply_score

    def another_browser_first(**kwargs):
        calls.append(kwargs["journey_version"])
        if len(calls) == 1:
            Lead.objects.filter(pk=lead.pk).update(journey_version=F("journey_version") + 1)
        return apply_score(**kwargs)

    monkeypatch.setattr(receivers, "lead_apply_score", another_browser_first)
    answer, _ = track(visitor_browser, engagement_seconds=10)

    assert len(calls) == 2 and calls[1] == calls[0]  # the retry read the version again (the bump was undone)
    assert UserInteraction.objects.filter(lead=lead).count() == 2  # stored once
    lead.refresh_from_db()
    assert (lead.lead_score, lead.journey_version) == (answer["score"], calls[0] + 1)


def test_after_a_rescore_a_leads_next_event_does_not_read_the_journey(visitor_browser, contact):
    from leads.models import Lead
    from leads.rescoring import leads_rescore_bulk

    track(visitor_browser, engagement_seconds=200)
    create_lead_from_form(session=UserSession.objects.get(), data=contact)
    scoring_rule_change("High engagement time", points=25)
    leads_rescore_bulk(leads=Lead.objects.all())

    answer, statements = track(visitor_browser, engagement_seconds=1)
    assert not reads_the_journey(statements)
    assert answer["score"] == Lead.objects.get().lead_score == 25
