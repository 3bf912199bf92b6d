"""leads.outcomes: the one definition of a lead's known outcome, which calibration and
the conversion model learn from."""

from datetime import UTC, datetime, timedelta

import pytest

from leads.models import Lead
from leads.outcomes import LabelledLead, outcome_labels
from leads.services import lead_update_status

pytestmark = pytest.mark.django_db

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def lead_with_history(name: str, *, days_old: float, statuses=(), erased=False) -> Lead:
    """A lead made `days_old` days before AS_OF, moved through `statuses` a day apart."""
    created_at = AS_OF - timedelta(days=days_old)
    lead = Lead.objects.create(email=f"{name}@example.com", first_name=name, created_at=created_at)
    for day, status in enumerate(statuses, start=1):
        lead_update_status(lead=lead, status=status, by=None, at=created_at + timedelta(days=day))
    if erased:
        Lead.objects.filter(pk=lead.pk).update(email="", first_name="", erased_at=AS_OF)
    return lead


@pytest.fixture
def leads():
    return {
        "booked": lead_with_history("booked", days_old=20, statuses=["contacted", "booked"]),
        "won": lead_with_history("won", days_old=100, statuses=["contacted", "booked", "won"]),
        "lost_after_booking": lead_with_history("cancelled", days_old=30, statuses=["contacted", "booked", "lost"]),
        "moved_back": lead_with_history("moved_back", days_old=25, statuses=["booked", "contacted"]),
        "lost": lead_with_history("lost", days_old=10, statuses=["contacted", "lost"]),
        "stale_open": lead_with_history("stale", days_old=90, statuses=["contacted"]),
        "stale_new": lead_with_history("forgotten", days_old=61),
        "fresh_open": lead_with_history("fresh", days_old=10, statuses=["contacted", "qualified"]),
        "fresh_new": lead_with_history("new", days_old=59),
        "erased": lead_with_history("erased", days_old=40, statuses=["booked", "won"], erased=True),
        "after_as_of": lead_with_history("later", days_old=-1, statuses=["booked"]),
    }


def test_each_kind_of_lead_gets_the_label_it_should(leads):
    labels = outcome_labels(as_of=AS_OF, stale_after_days=60)
    by_id = {label.lead_id: label.converted for label in labels}
    assert by_id == {
        leads["booked"].pk: True,
        leads["won"].pk: True,
        leads["lost_after_booking"].pk: True,
        leads["moved_back"].pk: True,
        leads["lost"].pk: False,
        leads["stale_open"].pk: False,
        leads["stale_new"].pk: False,
    }


def test_labels_come_oldest_first_with_the_leads_creation_time(leads):
    labels = outcome_labels(as_of=AS_OF, stale_after_days=60)
    assert [label.created_at for label in labels] == sorted(label.created_at for label in labels)
    assert labels[0] == LabelledLead(leads["won"].pk, leads["won"].created_at, True)


def test_a_shorter_stale_limit_gives_up_on_open_leads_sooner(leads):
    by_id = {label.lead_id: label.converted for label in outcome_labels(as_of=AS_OF, stale_after_days=7)}
    assert by_id[leads["fresh_open"].pk] is False
    assert by_id[leads["fresh_new"].pk] is False


def test_the_stale_limit_defaults_to_the_setting(leads, settings):
    settings.LEAD_STALE_AFTER_DAYS = 7
    assert outcome_labels(as_of=AS_OF) == outcome_labels(as_of=AS_OF, stale_after_days=7)


def test_it_reads_every_lead_in_one_query(leads, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        outcome_labels(as_of=AS_OF, stale_after_days=60)


def test_an_outcome_is_known_from_the_first_move_to_booked_won_or_lost_or_the_day_a_lead_went_stale(leads):
    from leads.outcomes import outcome_cutoffs

    cutoffs = outcome_cutoffs(outcome_labels(as_of=AS_OF, stale_after_days=60), as_of=AS_OF, stale_after_days=60)
    day = timedelta(days=1)
    assert cutoffs[leads["won"].pk] == leads["won"].created_at + 2 * day  # booked on its second day
    assert cutoffs[leads["lost"].pk] == leads["lost"].created_at + 2 * day
    assert cutoffs[leads["stale_open"].pk] == leads["stale_open"].created_at + 60 * day
    assert cutoffs[leads["stale_new"].pk] == leads["stale_new"].created_at + 60 * day
