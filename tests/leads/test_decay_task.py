"""Score decay's recompute (leads.decay): the scheduled task and `manage.py decay_scores`
bring every lead's score to what it is worth now, levels included, without
overwriting a score the tracker wrote meanwhile."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from interactions.tracker import track_user_interaction
from leads import decay
from leads.models import Lead
from leads.services import create_lead_from_form
from leads.tasks import decay_scores
from scoring.models import ScoringSettings
from scoring.services import scoring_config_forget
from tests.factories import UserSessionFactory, scoring_settings_change

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def make_lead(email, interaction_type, *, days_ago=0, **data):
    session = UserSessionFactory()
    track_user_interaction(session, interaction_type, data, occurred_at=timezone.now() - timedelta(days=days_ago))
    return create_lead_from_form(session=session, data={"email": email, "consent_contact": True})


def stored(lead):
    lead.refresh_from_db()
    return lead.lead_score, lead.engagement_level


def decay_now():
    out = StringIO()
    call_command("decay_scores", stdout=out)
    return out.getvalue()


def queued_decay_runs():
    return DBTaskResult.objects.filter(task_path=decay_scores.module_path, status="READY")


@pytest.fixture
def month_old_face_analysis():
    """A face analysis (80, high) 30 days ago, scored while decay was off."""
    lead = make_lead("face@example.com", "face_analysis", days_ago=30)
    assert stored(lead) == (80, "high")
    return lead


def test_the_task_halves_the_points_of_interactions_one_half_life_old_and_the_level_follows(
    month_old_face_analysis,
):
    fresh = make_lead("fresh@example.com", "face_analysis")
    scoring_settings_change(score_half_life_days=30)

    changed = decay_scores.call()

    lead = month_old_face_analysis
    assert stored(lead) == (40, "medium")
    assert lead.score_reasons == [{"rule": "Face analysis", "points": 40, "occurrences": 1}]
    assert stored(fresh) == (80, "high")  # today's: all its points
    assert changed == 1


def test_a_second_pass_reads_the_stored_states_not_the_interactions(month_old_face_analysis, monkeypatch):
    """After the first pass (which folds each journey once, the half-life being new,
    and stores the state even where the score stays), a lead's current state is all
    a pass needs."""
    from leads import rescoring

    unchanged = make_lead("search@example.com", "search")  # 0 points, with decay or without
    scoring_settings_change(score_half_life_days=30)
    assert "1 of 2 leads changed" in decay_now()
    updated_at = unchanged.updated_at
    unchanged.refresh_from_db()
    assert unchanged.scoring_state["ruleset"] == rescoring.scoring_config().ruleset.fingerprint
    assert unchanged.updated_at == updated_at  # its state was stored, but the lead did not change

    def unread(**kwargs):
        assert not kwargs["lead_ids"], "a lead with a current state had its journey read"
        return {}

    monkeypatch.setattr(rescoring, "lead_journeys", unread)
    assert "0 of 2 leads changed" in decay_now()
    assert stored(month_old_face_analysis) == (40, "medium")


def test_the_tracker_scores_an_event_as_of_its_own_time(month_old_face_analysis):
    scoring_settings_change(score_half_life_days=30)
    session = month_old_face_analysis.sessions.get()

    interaction = track_user_interaction(session, "ai_recommendation", {})

    # AI recommendation now (60) beats a face analysis a half-life ago (40); +5 for a further tool.
    assert (interaction.score, stored(month_old_face_analysis)) == (65, (65, "medium"))
    assert month_old_face_analysis.score_reasons == [
        {"rule": "AI recommendation", "points": 60, "occurrences": 1},
        {"rule": "Each further interaction", "points": 5, "occurrences": 1},
    ]


def test_staff_adjustments_do_not_fade(month_old_face_analysis):
    track_user_interaction(month_old_face_analysis.sessions.get(), "score_adjustment",
                           {"points": 10, "reason": "called, keen"}, occurred_at=timezone.now() - timedelta(days=30))
    scoring_settings_change(score_half_life_days=15)

    decay_now()

    # 80 two half-lives ago is 20; the month-old adjustment keeps its 10.
    assert stored(month_old_face_analysis) == (30, "low")


def test_a_lead_the_tracker_scores_during_the_pass_keeps_the_trackers_score(month_old_face_analysis, monkeypatch):
    from leads import rescoring

    scoring_settings_change(score_half_life_days=30)
    decay_now()  # the first pass: states now hold the half-life
    read_visits = rescoring.lead_visit_facts

    def an_event_right_after_the_read(**kwargs):
        facts = read_visits(**kwargs)
        track_user_interaction(month_old_face_analysis.sessions.get(), "cost_calculator", {})
        return facts

    monkeypatch.setattr(rescoring, "lead_visit_facts", an_event_right_after_the_read)
    version_before = Lead.objects.get(pk=month_old_face_analysis.pk).journey_version

    out = decay_now()

    # The tracker's: cost calculator now (70) and a further tool (+5); the pass's write was refused.
    assert stored(month_old_face_analysis) == (75, "high")
    assert Lead.objects.get(pk=month_old_face_analysis.pk).journey_version == version_before + 1
    assert "0 of 1 lead changed" in out


def test_the_task_queues_its_next_run_while_decay_is_on(month_old_face_analysis, settings):
    settings.TASKS = DATABASE_TASKS
    settings.SCORE_DECAY_INTERVAL_MINUTES = 15
    ScoringSettings.objects.filter(pk=1).update(score_half_life_days=30)  # no save: no schedule started
    scoring_config_forget()

    decay_scores.call()

    (queued,) = queued_decay_runs()
    expected = timezone.now() + timedelta(minutes=15)
    assert expected - timedelta(seconds=30) < queued.run_after <= expected
    assert stored(month_old_face_analysis) == (40, "medium")

    decay_scores.call()  # a run never queues a second next run
    assert queued_decay_runs().count() == 1


def test_the_task_queues_nothing_and_changes_nothing_when_decay_is_off(month_old_face_analysis, settings):
    settings.TASKS = DATABASE_TASKS

    assert decay_scores.call() == 0

    assert not queued_decay_runs().exists()
    assert stored(month_old_face_analysis) == (80, "high")


def test_saving_the_settings_with_a_half_life_starts_the_schedule_once(settings, django_capture_on_commit_callbacks):
    settings.TASKS = DATABASE_TASKS

    with django_capture_on_commit_callbacks(execute=True):
        scoring_settings_change(score_half_life_days=30)
    with django_capture_on_commit_callbacks(execute=True):
        scoring_settings_change(score_half_life_days=45)  # a run is queued already

    (queued,) = queued_decay_runs()
    assert queued.run_after <= timezone.now()


def test_saving_the_settings_without_a_half_life_starts_nothing(settings, django_capture_on_commit_callbacks):
    settings.TASKS = DATABASE_TASKS

    with django_capture_on_commit_callbacks(execute=True):
        scoring_settings_change(medium_threshold=35)

    assert not queued_decay_runs().exists()


def test_a_backend_that_cannot_defer_gets_no_schedule(django_capture_on_commit_callbacks, month_old_face_analysis):
    """The tests' immediate backend would run every pass at once, in the saving request."""
    with django_capture_on_commit_callbacks(execute=True):
        scoring_settings_change(score_half_life_days=30)

    assert stored(month_old_face_analysis) == (80, "high")  # no pass ran
    assert decay.decay_schedule_start() is False


def test_decay_scores_reports_how_many_leads_changed(month_old_face_analysis):
    make_lead("fresh@example.com", "face_analysis")
    make_lead("old-ai@example.com", "ai_recommendation", days_ago=60)
    scoring_settings_change(score_half_life_days=30)

    out = decay_now()

    assert "Decayed scores as of now: 2 of 3 leads changed: 1 high->medium, 1 medium->low." in out


def test_decay_scores_says_so_when_decay_is_off(month_old_face_analysis):
    assert "Score decay is off" in decay_now()
    assert stored(month_old_face_analysis) == (80, "high")


def test_a_rescore_with_decay_on_scores_as_of_now(month_old_face_analysis):
    scoring_settings_change(score_half_life_days=30)

    call_command("rescore_leads", stdout=StringIO())

    assert stored(month_old_face_analysis) == (40, "medium")


def test_the_half_life_is_exported_and_loaded_with_the_settings():
    from scoring.portability import scoring_rules_export, scoring_rules_load

    scoring_settings_change(score_half_life_days=30)
    document = scoring_rules_export()
    assert document["settings"]["score_half_life_days"] == 30

    document["settings"]["score_half_life_days"] = None
    summary = scoring_rules_load(document=document)
    assert summary.settings_changes == ("score_half_life_days: 30 -> None",)
    assert ScoringSettings.objects.get().score_half_life_days is None


def test_an_imported_old_journey_is_scored_at_its_own_time_and_shows_its_decayed_score_after_a_pass(tmp_path):
    """Each imported row keeps the score it had when it happened; the lead shows what
    the journey is worth now once a pass has run."""
    from interactions.models import UserInteraction

    scoring_settings_change(score_half_life_days=30)
    when = (timezone.now() - timedelta(days=60)).replace(microsecond=0)
    records = [
        {"id": 1, "session_id": "J1", "timestamp": when.isoformat(), "type": "price_calc",
         "procedures": ["botox", "lip-filler"]},
        {"id": 2, "session_id": "J1", "timestamp": (when + timedelta(minutes=4)).isoformat(), "type": "contact",
         "email": "ana@example.com", "consent": True},
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    call_command("import_interactions", str(path), stdout=StringIO(), stderr=StringIO())

    assert UserInteraction.objects.get(external_id="legacy:1").score == 70 + 15  # as of its own time
    decay_now()

    # Two half-lives on: a base of 70 -> 17.5 -> 18 (the enquiry's, four minutes younger, ties the
    # quote's and comes first), 15 -> 3.75 -> 4.
    lead = Lead.objects.get()
    assert stored(lead) == (22, "low")
    assert lead.score_reasons == [{"rule": "Explicit enquiry", "points": 18, "occurrences": 1},
                                  {"rule": "Multiple procedures", "points": 4, "occurrences": 1}]


def test_the_half_life_is_set_in_the_admins_decay_section_which_starts_the_schedule(
    client, settings, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    settings.TASKS = DATABASE_TASKS
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345-x")
    client.login(username="boss", password="pw-12345-x")
    row, _ = ScoringSettings.objects.get_or_create(pk=1)
    page = client.get(f"/admin/scoring/scoringsettings/{row.pk}/change/").content.decode()
    assert "Decay" in page and "halved after this many days" in page

    form = {name: getattr(row, name) for name in (
        "medium_threshold", "high_threshold", "contact_prompt_threshold", "contact_prompt_cooldown_minutes",
        "contact_prompt_max_shows")}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/scoring/scoringsettings/{row.pk}/change/",
                               {**form, "score_half_life_days": "0"})
    assert response.status_code == 200 and "Ensure this value is greater than or equal to 1." in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/scoring/scoringsettings/{row.pk}/change/",
                               {**form, "score_half_life_days": "30"})

    assert response.status_code == 302
    assert ScoringSettings.objects.get().score_half_life_days == 30
    assert queued_decay_runs().count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_queued_run_is_run_by_the_database_worker(settings):
    """The real worker: it runs the queued pass, which queues the next. (PostgreSQL:
    the worker closes its connection between tasks, which ends SQLite's in-memory test database.)"""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the worker closes the connection, which ends SQLite's in-memory test database")
    settings.TASKS = DATABASE_TASKS
    lead = make_lead("face@example.com", "face_analysis", days_ago=30)
    scoring_settings_change(score_half_life_days=30)  # outside a transaction: queued at once
    assert queued_decay_runs().count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--max-tasks", "1", stdout=StringIO(),
                 stderr=StringIO())

    assert stored(lead) == (40, "medium")
    assert DBTaskResult.objects.filter(task_path=decay_scores.module_path, status="SUCCESSFUL").count() == 1
    assert queued_decay_runs().count() == 1  # the next one, an interval on


def test_a_decay_pass_records_the_faded_score_in_the_history_with_the_version_that_has_the_half_life(
    month_old_face_analysis,
):
    from leads.models import LeadScoreChange, ScoreChangeCause
    from leads.score_history import lead_score_under
    from scoring.models import RuleVersion
    from scoring.services import scoring_config

    before = scoring_config().version
    scoring_settings_change(score_half_life_days=30)
    decay_scores.call()
    change = LeadScoreChange.objects.filter(lead=month_old_face_analysis).latest("at")
    assert (change.score, change.cause) == (40, ScoreChangeCause.DECAY)
    version = RuleVersion.objects.get(number=change.rule_version_id)
    assert version.number > before and version.settings_snapshot["score_half_life_days"] == 30
    # Replayed under the version with the half-life, or the one before it (no decay).
    assert lead_score_under(lead=month_old_face_analysis, version=version.number).points == 40
    assert lead_score_under(lead=month_old_face_analysis, version=before).points == 80
    decay_scores.call()  # nothing moved: nothing recorded
    assert LeadScoreChange.objects.filter(lead=month_old_face_analysis, cause=ScoreChangeCause.DECAY).count() == 1
