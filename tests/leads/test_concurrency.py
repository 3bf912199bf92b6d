"""Fifty simultaneous submissions of the same contact form give one lead."""

import threading

import pytest
from django.db import connection

from interactions.services import session_start
from leads.models import Consent, Lead, LeadNote
from leads.services import create_lead_from_form

SUBMISSIONS = 50


@pytest.mark.parametrize("trusted", [True, False])
# serialized_rollback: like every transactional test here, so the flush after it leaves the
# database as the next serialized test expects (a plain flush re-creates content types,
# and restoring the serialized data then collides with them on PostgreSQL).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_simultaneous_submissions_for_one_person_make_one_lead(trusted):
    sessions = [session_start(landing_page="/") for _ in range(SUBMISSIONS)]
    start = threading.Barrier(SUBMISSIONS)
    errors: list[BaseException] = []

    def submit(session):
        try:
            start.wait()
            create_lead_from_form(session=session, data={
                "first_name": "Priya", "email": "Priya.Sharma@example.com ", "phone": "07911 100202",
                "consent_contact": True,
            }, trusted=trusted)
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    if trusted:
        assert lead.sessions.count() == SUBMISSIONS
        assert Consent.objects.filter(lead=lead).count() == SUBMISSIONS
    else:
        # The first browser is the lead's; each other one is an unverified enquiry.
        assert lead.sessions.count() == 1
        assert Consent.objects.filter(lead=lead).count() == 1
        assert LeadNote.objects.filter(lead=lead).count() == SUBMISSIONS - 1
