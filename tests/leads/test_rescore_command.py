"""manage.py rescore_leads: stored lead scores follow the current rules."""

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interactions.tracker import track_user_interaction
from leads.models import Lead
from leads.rescoring import leads_for_rescoring, leads_rescore_bulk
from leads.services import create_lead_from_form, lead_update_status
from scoring.models import LeadScoringRule
from tests.factories import UserSessionFactory, scoring_rule_change

pytestmark = pytest.mark.django_db


def make_lead(email, interaction_type, **data):
    session = UserSessionFactory()
    track_user_interaction(session, interaction_type, data)
    return create_lead_from_form(session=session, data={"email": email, "consent_contact": True})


@pytest.fixture
def leads():
    """Three patients: one medium (AI recommendation, 60), one high (face analysis,
    80) and one low (a search, 0)."""
    return {
        "ai": make_lead("ai@example.com", "ai_recommendation"),
        "face": make_lead("face@example.com", "face_analysis"),
        "search": make_lead("search@example.com", "search"),
    }


def set_points(rule_name, points):
    scoring_rule_change(rule_name, points=points)


def rescore(*args):
    out = StringIO()
    call_command("rescore_leads", *args, stdout=out)
    return out.getvalue()


def stored(lead):
    lead.refresh_from_db()
    return lead.lead_score, lead.engagement_level


@pytest.mark.parametrize("chunk_size", ["1", "500"])
def test_changing_a_rule_then_rescoring_changes_the_stored_scores(leads, chunk_size):
    set_points("AI recommendation", 75)
    out = rescore("--chunk-size", chunk_size)
    assert "Rescored 3 leads, 1 changed: 1 medium->high." in out
    assert stored(leads["ai"]) == (75, "high")
    assert leads["ai"].score_reasons == [{"rule": "AI recommendation", "points": 75, "occurrences": 1}]
    assert stored(leads["face"]) == (80, "high")


def test_a_change_within_a_level_is_counted_as_score_only(leads):
    set_points("Face analysis", 85)
    assert "Rescored 3 leads, 1 changed: 1 score only." in rescore()


def test_a_dry_run_reports_what_would_change_and_saves_nothing(leads, django_capture_on_commit_callbacks):
    set_points("AI recommendation", 75)
    set_points("Face analysis", 30)
    with django_capture_on_commit_callbacks() as callbacks:
        out = rescore("--dry-run", "--chunk-size", "2")
    assert "would change 2 of 3 leads: 1 high->low, 1 medium->high." in out
    assert stored(leads["ai"]) == (60, "medium")
    assert stored(leads["face"]) == (80, "high")
    assert callbacks == []  # no "high-intent lead" e-mail for a score that was not saved


def test_filters_choose_the_leads_to_rescore(leads):
    set_points("AI recommendation", 75)
    set_points("Face analysis", 85)
    lead_update_status(lead=leads["face"], status="contacted")
    Lead.objects.filter(pk=leads["search"].pk).update(created_at=timezone.now() - timedelta(days=30))

    assert "Rescored 1 lead, 1 changed" in rescore("--lead", str(leads["ai"].pk))
    assert stored(leads["face"]) == (80, "high")
    assert "Rescored 2 leads" in rescore("--lead", str(leads["ai"].pk), "--lead", str(leads["search"].pk))
    assert "Rescored 1 lead, 1 changed" in rescore("--status", "contacted")
    assert stored(leads["face"]) == (85, "high")
    assert "Rescored 1 lead" in rescore("--level", "low")
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert "Rescored 2 leads" in rescore("--since", since)
    assert "Rescored 0 leads" in rescore("--since", since, "--level", "low")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "maybe"], "Unknown status 'maybe'"),
        (["--level", "huge"], "Unknown level 'huge'"),
        (["--since", "31/12/2024"], "--since '31/12/2024' is not a date"),
        (["--lead", "999999"], "No lead with id 999999."),
        (["--chunk-size", "0"], "--chunk-size must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_arguments_are_refused(leads, args, message):
    with pytest.raises(CommandError, match=message):
        rescore(*args)


def test_the_service_returns_counts_for_the_admin_and_tasks(leads):
    set_points("AI recommendation", 75)
    summary = leads_rescore_bulk(leads=leads_for_rescoring(level="medium"))
    assert (summary.rescored, summary.changed, dict(summary.level_changes)) == (1, 1, {"medium->high": 1})
    assert not summary.dry_run


def test_new_rules_e_mail_staff_only_about_open_leads_newly_high_and_say_they_were_re_scored(
    leads, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox, settings
):
    settings.SITE_URL = "https://clinic.example"
    lead_update_status(lead=leads["search"], status="lost")
    mailoutbox.clear()
    set_points("AI recommendation", 75)
    LeadScoringRule.objects.create(name="Searched", kind="base", points=75,
                                   condition={"field": "interaction_type", "op": "eq", "value": "search"})
    with django_capture_on_commit_callbacks(execute=True):
        leads_rescore_bulk(leads=Lead.objects.all())
    assert Lead.objects.get(pk=leads["search"].pk).engagement_level == "high"  # lost: no e-mail
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert "re-scored" in message.subject.lower() and "new high-intent lead" not in message.body.lower()
    assert f"https://clinic.example/admin/leads/lead/{leads['ai'].pk}/change/" in message.body


def test_a_rescore_that_lifts_many_leads_e_mails_about_each_once_from_one_queued_task_per_chunk(
    leads, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox
):
    mailoutbox.clear()
    set_points("AI recommendation", 75)
    LeadScoringRule.objects.create(name="Searched", kind="base", points=75,
                                   condition={"field": "interaction_type", "op": "eq", "value": "search"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        leads_rescore_bulk(leads=Lead.objects.all())
    assert len(callbacks) == 1  # the chunk's two leads, in one task
    links = sorted(message.body.split("/admin/leads/lead/")[1].split("/")[0] for message in mailoutbox)
    assert links == sorted(str(leads[name].pk) for name in ("ai", "search"))  # one e-mail each
    assert all("re-scored" in message.subject.lower() for message in mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        leads_rescore_bulk(leads=Lead.objects.all())
    assert len(mailoutbox) == 2  # already told: not again


def test_a_lead_whose_score_does_not_change_is_not_written_and_its_next_event_scores_with_the_new_rules(leads):
    face = Lead.objects.get(pk=leads["face"].pk)
    set_points("AI recommendation", 75)
    assert "Rescored 3 leads, 1 changed" in rescore()
    untouched = Lead.objects.get(pk=face.pk)
    assert (untouched.updated_at, untouched.journey_version, untouched.scoring_state) == (
        face.updated_at, face.journey_version, face.scoring_state)

    # Its state names the old rules: its next event reads the journey once, and its
    # score is the one the new rules give the whole journey.
    with CaptureQueriesContext(connection) as captured:
        track_user_interaction(face.sessions.get(), "ai_recommendation", {"urgency": "immediate"})
    assert sum("FROM \"interactions_userinteraction\"" in query["sql"] for query in captured.captured_queries) == 1
    assert "would change 0 of 3 leads" in rescore("--dry-run")
    assert stored(face) == (100, "high")  # face 80, urgent +25, a further tool +5: clamped


@pytest.fixture
def may_fork(monkeypatch):
    """The rescore forks worker processes only from a process with one thread, as
    `manage.py rescore_leads` is. The test runner's worker (pytest-xdist) keeps a
    thread of its own, which the forked workers never touch: fork here anyway, so
    the tests cover the processes' path."""
    from leads import rescoring

    monkeypatch.setattr(rescoring, "_threads_running", lambda: 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_a_rescore_in_parallel_chunks_gives_the_scores_and_counts_of_one_chunk_at_a_time(
    mailoutbox, front_desk_inbox, may_fork
):
    """On PostgreSQL outside a transaction, two processes rescore chunks at once,
    each on its own connection; elsewhere one chunk after another. Either way, the
    same outcome, and staff are e-mailed from this process."""
    made = {name: make_lead(f"{name}@example.com", kind) for name, kind in
            [("ai", "ai_recommendation"), ("face", "face_analysis"), ("search", "search"), ("cost", "cost_calculator")]}
    mailoutbox.clear()
    set_points("AI recommendation", 75)
    set_points("Cost calculator", 20)

    summary = leads_rescore_bulk(leads=Lead.objects.all(), chunk_size=1, workers=2)

    assert (summary.rescored, summary.changed, summary.level_changes) == (4, 2, {"medium->high": 1, "high->low": 1})
    assert {name: stored(lead) for name, lead in made.items()} == {
        "ai": (75, "high"), "face": (80, "high"), "search": (0, "low"), "cost": (20, "low")}
    assert len(mailoutbox) == 1 and f"/admin/leads/lead/{made['ai'].pk}/change/" in mailoutbox[0].body


def test_a_lead_whose_journey_moves_on_while_it_is_rescored_keeps_the_trackers_score(
    leads, mailoutbox, django_capture_on_commit_callbacks, front_desk_inbox, monkeypatch
):
    """Leads are not locked while they are rescored: each is written only if its
    journey_version is still the one read before its journey. A patient's event
    stored in between (the tracker moves the version) wins: the rescore, which
    scored the journey without it, leaves that lead alone, counts it as unchanged
    and e-mails nobody about it."""
    from leads import rescoring

    mailoutbox.clear()
    set_points("AI recommendation", 75)  # would lift "ai" from 60 (medium) to 75 (high)
    read_journeys = rescoring.lead_journeys

    def an_event_right_after_the_read(**kwargs):
        journeys = read_journeys(**kwargs)
        track_user_interaction(leads["ai"].sessions.get(), "cost_calculator", {})
        return journeys

    monkeypatch.setattr(rescoring, "lead_journeys", an_event_right_after_the_read)
    with django_capture_on_commit_callbacks(execute=True):
        summary = leads_rescore_bulk(leads=Lead.objects.all(), workers=1)
    version_after_the_event = Lead.objects.get(pk=leads["ai"].pk).journey_version

    # The tracker's score, from the whole journey with the new rules: AI 75, a further tool +5.
    assert stored(leads["ai"]) == (80, "high")
    assert Lead.objects.get(pk=leads["ai"].pk).journey_version == version_after_the_event
    assert (summary.rescored, summary.changed, summary.level_changes) == (3, 0, {})
    assert len(mailoutbox) == 1 and "re-scored" not in mailoutbox[0].subject.lower()  # the tracker's own e-mail

    monkeypatch.setattr(rescoring, "lead_journeys", read_journeys)
    assert "would change 0 of 3 leads" in rescore("--dry-run")  # nothing was left stale


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_an_error_in_a_chunk_stops_the_rescore_and_reaches_the_caller(monkeypatch, may_fork):
    """Also from a worker process (on PostgreSQL): the error is raised here."""
    from leads import rescoring

    for name in ("ai", "face"):
        make_lead(f"{name}@example.com", "face_analysis")

    def broken(lead_ids, **kwargs):
        raise RuntimeError(f"chunk {list(lead_ids)} failed")

    monkeypatch.setattr(rescoring, "_chunk_rescore_now", broken)
    with pytest.raises(RuntimeError, match="failed"):
        leads_rescore_bulk(leads=Lead.objects.all(), chunk_size=1, workers=2)


def test_a_command_process_starts_with_one_thread_so_the_rescore_can_fork_its_workers():
    """numpy and scikit-learn start a thread pool when imported: if setting Django up
    (the admin's modules, the apps) imported them, rescore_leads would score one chunk
    after another, at half the speed on two cores."""
    import subprocess
    import sys

    code = ("import django, sys; django.setup(); from leads.rescoring import _threads_running; "
            "print(_threads_running(), 'numpy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings"})
    assert result.stdout.split() == ["1", "False"]
