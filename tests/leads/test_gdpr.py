"""Data-subject rights: export everything on a person, erase it everywhere, purge old data."""

import json
from io import StringIO

import pytest
from django.core import serializers
from django.core.management import CommandError, call_command
from django.utils import timezone

from interactions.models import UserInteraction, UserSession
from leads import selectors
from leads.models import AuditEvent, Lead, LeadStatus
from leads.services import lead_adjust_score, lead_update_status

SARAH = ("sarah.chen@example.com", "+447911100201", "Sarah", "Chen")


def everything_stored() -> str:
    """Every row of every table the clinic's apps and the admin keep, as text."""
    from django.apps import apps

    labels = ["interactions", "leads", "scoring", "calculators", "admin", "auth", "django_tasks_database"]
    models = [model for label in labels for model in apps.get_app_config(label).get_models()]
    return "".join(serializers.serialize("json", model.objects.all()) for model in models)


def test_an_export_holds_everything_on_the_person(demo):
    out = StringIO()
    call_command("gdpr_export", "07911 100201", stdout=out)
    document = json.loads(out.getvalue())
    assert document["lead"]["email"] == "sarah.chen@example.com"
    assert document["consents"][0]["text_version"] == "contact-v1"
    assert document["interactions"][0]["data"]["query"].startswith("I'd like botox")
    assert document["visits"][0]["utm_source"] == "google"
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_label) == ("export", "manage.py gdpr_export")
    assert "sarah" not in json.dumps(event.detail).lower() and event.subject.startswith("lead ")


def test_erasure_leaves_nothing_that_names_or_reaches_the_person_and_keeps_the_totals(demo, admin_user):
    lead = Lead.objects.get(email=SARAH[0])
    lead_adjust_score(lead=lead, points=5, reason="Sarah Chen called back", by=admin_user)
    period = selectors.period_for_days(timezone.localdate() - timezone.timedelta(days=40), timezone.localdate())
    # Booked, then lost: the funnel and her campaign count her as booked, before and after.
    for status in (LeadStatus.BOOKED, LeadStatus.LOST):
        lead_update_status(lead=lead, status=status)
    assert lead.created_at >= period.start
    before = selectors.overview(period=period)
    figures = (selectors.funnel(period=period), selectors.score_distribution(period=period),
               selectors.attribution(period=period))
    call_command("gdpr_export", SARAH[0], stdout=StringIO())
    call_command("gdpr_erase", SARAH[0], "--yes", stdout=StringIO())
    stored = everything_stored()
    for value in SARAH:
        assert value not in stored
    assert "forehead lines before my wedding" not in stored  # her own words, in the journey
    after = selectors.overview(period=period)
    assert (after.sessions, after.interactions, after.leads) == (before.sessions, before.interactions, before.leads)
    assert (selectors.funnel(period=period), selectors.score_distribution(period=period),
            selectors.attribution(period=period)) == figures
    lead.refresh_from_db()
    assert lead.erased_at is not None and lead.lead_score > 0
    assert [e.action for e in AuditEvent.objects.order_by("created_at")] == ["export", "erase"]
    with pytest.raises(CommandError, match="No one"):
        call_command("gdpr_export", SARAH[0], stdout=StringIO())


def test_erasure_needs_confirmation_and_a_dry_run_changes_nothing(demo):
    with pytest.raises(CommandError, match="--yes"):
        call_command("gdpr_erase", SARAH[0])
    out = StringIO()
    call_command("gdpr_erase", SARAH[0], "--dry-run", stdout=out)
    assert "would erase lead" in out.getvalue()
    assert Lead.objects.filter(email=SARAH[0]).exists() and not AuditEvent.objects.exists()


def test_staff_export_and_erase_in_the_admin_with_confirmation(demo, client):
    client.login(username="admin", password="admin")
    lead = Lead.objects.get(email=SARAH[0])
    response = client.post("/admin/leads/lead/", {"action": "export_personal_data", "_selected_action": [lead.pk]})
    assert json.loads(response.content)["lead"]["phone"] == SARAH[1]
    response = client.post("/admin/leads/lead/", {"action": "erase_personal_data", "_selected_action": [lead.pk]})
    assert b"Yes, erase" in response.content
    assert Lead.objects.get(pk=lead.pk).email == SARAH[0]
    client.post("/admin/leads/lead/", {"action": "erase_personal_data", "_selected_action": [lead.pk], "confirm": "yes"})
    assert Lead.objects.get(pk=lead.pk).email == ""
    assert AuditEvent.objects.filter(action="erase", actor__username="admin").exists()


def test_only_staff_allowed_to_delete_leads_may_erase(demo, client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from clinic.roles import FRONT_DESK

    user = get_user_model().objects.create_user("desk", password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    client.force_login(user)
    page = client.get("/admin/leads/lead/").content.decode()
    assert "export the selected person" in page and "erase the selected" not in page


def test_purging_removes_only_stale_anonymous_visitors(demo):
    old = timezone.now() - timezone.timedelta(days=400)
    stale = UserSession.objects.filter(lead__isnull=True)[:5]
    stale_ids = [s.pk for s in stale]
    UserSession.objects.filter(pk__in=stale_ids).update(last_seen_at=old)
    converted = Lead.objects.first().sessions.first()
    UserSession.objects.filter(pk=converted.pk).update(last_seen_at=old)
    out = StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    assert "would delete 5 anonymous visitors" in out.getvalue() and "0 kept photos" in out.getvalue()
    call_command("purge_expired", stdout=StringIO())
    assert not UserSession.objects.filter(pk__in=stale_ids).exists()
    assert not UserInteraction.objects.filter(session_id__in=stale_ids).exists()
    assert UserSession.objects.filter(pk=converted.pk).exists()
    assert AuditEvent.objects.get().action == "purge"
