"""manage.py import_interactions: the old system's history, scored as if tracked."""

import csv
import json
import re
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone

import leads
import leads.importer.batch
from interactions.models import UserInteraction, UserSession
from interactions.services import session_start, session_touch
from interactions.tracker import track_user_interaction
from leads import importer
from leads.models import Consent, ConsentMethod, Lead
from leads.services import create_lead_from_form

pytestmark = pytest.mark.django_db

SAMPLE = Path(leads.__file__).parent / "fixtures" / "legacy_interactions_sample.csv"
SAMPLE_ROWS, SAMPLE_REJECTED = 230, 8

COLUMNS = [
    "id", "session_id", "timestamp", "type", "page_url", "engagement_seconds", "utm_source", "utm_medium",
    "utm_campaign", "landing_page", "procedures", "urgency", "budget_level", "data", "email", "phone",
    "first_name", "consent",
]


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_interactions", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def row(number, session, timestamp, kind, **columns):
    return {"id": str(number), "session_id": session, "timestamp": timestamp, "type": kind, **columns}


def test_the_sample_imports_and_a_second_run_skips_every_row():
    out, err = run_import(SAMPLE)
    assert f"imported {SAMPLE_ROWS}, skipped 0, rejected {SAMPLE_REJECTED}" in out
    stored = set(UserInteraction.objects.values_list("external_id", "score", "session__public_id"))
    counts = (UserSession.objects.count(), Lead.objects.count(), Consent.objects.count())

    out, err = run_import(SAMPLE)

    assert f"imported 0, skipped {SAMPLE_ROWS}, rejected {SAMPLE_REJECTED}" in out
    assert set(UserInteraction.objects.values_list("external_id", "score", "session__public_id")) == stored
    assert (UserSession.objects.count(), Lead.objects.count(), Consent.objects.count()) == counts
    assert len(stored) == SAMPLE_ROWS


def test_the_sample_shows_campaigns_returning_visitors_and_leads():
    run_import(SAMPLE)
    assert UserSession.objects.exclude(utm_campaign="").values("utm_campaign").distinct().count() >= 3
    assert UserSession.objects.filter(interaction_count__gte=3).exists()
    assert UserSession.objects.filter(visit_count__gte=2).exists()
    assert Lead.objects.count() == 19
    assert UserSession.objects.filter(lead__isnull=False).count() == 20  # one patient came back on another device


def test_malformed_rows_are_reported_with_their_line_numbers_and_the_rest_is_imported():
    out, err = run_import(SAMPLE)
    assert "line 22: id: missing" in err
    assert "line 51 (id 90001): timestamp: '2024-13-45 10:00' is not an ISO 8601 date and time" in err
    assert "line 80 (id 90002): type: 'fax_request' is not a known interaction type" in err
    assert "line 109 (id 90003): data: not valid JSON" in err
    assert "line 138 (id 90004): email: Enter a valid email address." in err
    assert "line 167 (id 90005): phone: This phone number does not exist" in err
    assert "line 196 (id 90006): session_id: missing" in err
    assert "line 225 (id 90007): urgency: 'asap' is not one of immediate, soon, flexible; " \
           "engagement_seconds: cannot be negative" in err
    assert not UserInteraction.objects.filter(external_id__startswith="legacy:9").exists()


def test_rejected_rows_can_go_to_a_report_file(tmp_path):
    report = tmp_path / "rejected.csv"
    out, err = run_import(SAMPLE, "--report", str(report))
    lines = report.read_text().splitlines()
    assert lines[0] == "line,id,reason"
    assert lines[1] == "22,,id: missing"
    assert len(lines) == 1 + SAMPLE_REJECTED
    assert "line 51" not in err and str(report) in err


def test_a_line_number_counts_lines_of_the_file_even_with_a_quoted_line_break(tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text(
        "id,session_id,timestamp,type,query\n"
        '1,S1,2024-05-01T10:00:00,search,"lip\nfiller"\n'
        "2,S1,yesterday,search,botox\n"
    )
    out, err = run_import(path)
    assert "line 4 (id 2): timestamp" in err
    assert UserInteraction.objects.get().data == {"query": "lip\nfiller"}


def test_json_lines_are_imported_with_lists_objects_and_booleans(tmp_path):
    path = tmp_path / "export.jsonl"
    records = [
        {"id": 1, "session_id": "J1", "timestamp": "2024-05-01T10:00:00Z", "type": "price_calc",
         "procedures": ["botox", "lip-filler"], "budget_level": "Medium", "budget_amount": 900,
         "data": {"currency": "GBP"}, "utm_source": "google", "utm_campaign": "spring"},
        {"id": 2, "session_id": "J1", "timestamp": "2024-05-01T10:04:00Z", "type": "contact",
         "email": "Ana.Lee@Example.com", "consent": True, "engagement_seconds": 30},
        "not an object",
    ]
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n\n{broken\n")

    out, err = run_import(path)

    assert "imported 2, skipped 0, rejected 2" in out
    assert "line 3: not a JSON object" in err and "line 5: not valid JSON" in err
    quote = UserInteraction.objects.get(external_id="legacy:1")
    assert quote.interaction_type == "cost_calculator"
    assert quote.data == {"currency": "GBP", "procedures": ["botox", "lip-filler"], "budget_level": "medium",
                          "budget_amount": 900}
    assert quote.score == 70 + 15
    assert quote.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    lead = Lead.objects.get()
    # The contact row is not a tool use, so no "further interaction" +5 (issue 10).
    assert (lead.email, lead.utm_campaign, lead.lead_score) == ("ana.lee@example.com", "spring", 70 + 15)


def test_the_format_can_be_given_when_the_extension_does_not_say(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(json.dumps({"id": "a", "session_id": "s", "timestamp": "2024-05-01", "type": "search"}) + "\n")
    with pytest.raises(CommandError, match="Cannot tell the format of export.txt"):
        run_import(path)
    out, err = run_import(path, "--format", "jsonl")
    assert "imported 1" in out


@pytest.mark.parametrize(("legacy", "today"), sorted(importer.LEGACY_TYPES.items()))
def test_legacy_names_are_mapped_to_todays_interaction_types(tmp_path, legacy, today):
    path = write_csv(tmp_path / "one.csv", [row(1, "S1", "2024-05-01T10:00:00", legacy.upper().replace("_", "-"))])
    run_import(path)
    assert UserInteraction.objects.get().interaction_type == today


def test_a_naive_timestamp_is_in_the_clinics_time_zone(tmp_path, settings):
    settings.TIME_ZONE = "Europe/London"
    path = write_csv(tmp_path / "one.csv", [row(1, "S1", "2024-07-01T10:00:00", "search")])
    run_import(path)
    assert UserInteraction.objects.get().created_at == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)


def test_one_legacy_session_is_one_visitor_with_first_touch_attribution(tmp_path):
    path = write_csv(tmp_path / "visits.csv", [
        row(1, "S1", "2024-05-01T10:00:00", "page_view", engagement_seconds="40", utm_source="google",
            utm_medium="cpc", utm_campaign="botox-spring", landing_page="/botox/"),
        row(2, "S1", "2024-05-01T10:05:00", "ai_rec", engagement_seconds="100", utm_source="facebook"),
        row(3, "S1", "2024-05-03T18:00:00", "quote", engagement_seconds="50"),
    ])
    run_import(path)
    session = UserSession.objects.get()
    assert session.public_id == importer.legacy_session_public_id("S1")
    assert (session.utm_source, session.utm_medium, session.utm_campaign, session.landing_page) == (
        "google", "cpc", "botox-spring", "/botox/")
    assert (session.interaction_count, session.engagement_seconds, session.visit_count) == (3, 190, 2)
    assert session.created_at == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert session.last_seen_at == datetime(2024, 5, 3, 17, 0, tzinfo=UTC)
    # 70 cost calculator + 15 engagement >= 180 s + 10 returning visitor + 5 further interaction (twice)
    assert (session.score, session.engagement_level) == (100, "high")


def test_a_row_older_than_rows_already_imported_is_scored_on_the_journey_before_it(tmp_path):
    """Rows are taken in file order; each is scored on what is stored up to its own time."""
    path = write_csv(tmp_path / "late.csv", [
        row(1, "S1", "2024-05-01T10:00:00", "skin_analysis"),
        row(2, "S1", "2024-05-01T09:00:00", "ai_rec"),
        row(3, "S1", "2024-05-01T09:30:00", "search"),
    ])
    run_import(path, "--batch-size", "1")
    scores = dict(UserInteraction.objects.values_list("external_id", "score"))
    # The search after the recommendation adds nothing: it is not a tool use (issue 10).
    assert scores == {"legacy:1": 80, "legacy:2": 60, "legacy:3": 60}
    session = UserSession.objects.get()
    assert session.created_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert session.last_seen_at == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    # Like the tracker: each row scores the journey up to its own time, and the session
    # shows its whole journey's score (the face analysis at 10:00 and a further tool).
    assert (session.score, session.engagement_level) == (85, "high")


EQUALITY_ROWS = [
    row(1, "A", "2024-05-01T10:00:00", "search", engagement_seconds="40", utm_source="google", utm_medium="cpc",
        utm_campaign="botox-spring", landing_page="/enhanced-ai/"),
    row(2, "B", "2024-05-01T10:05:00", "page_view", engagement_seconds="200", data='{"scroll_depth": 80}'),
    row(3, "A", "2024-05-01T10:03:00", "ai_rec", engagement_seconds="60", procedures="botox"),
    row(4, "C", "2024-05-01T10:10:00", "price_calc", engagement_seconds="30", procedures="botox;dermal-filler",
        budget_level="high"),
    row(5, "A", "2024-05-01T09:58:00", "page_view", engagement_seconds="10"),
    row(6, "B", "2024-05-01T11:00:00", "skin_analysis", engagement_seconds="30"),
    row(7, "A", "2024-05-01T10:20:00", "contact", engagement_seconds="20", email="sarah.chen@example.com",
        first_name="Sarah", consent="true"),
    # Crosses 180 s: for a lead, the tracker counts a row's seconds from the next row on.
    row(8, "A", "2024-05-01T10:25:00", "search", engagement_seconds="60"),
    row(9, "D", "2024-05-02T12:00:00", "quote", engagement_seconds="50", procedures="lip-filler",
        email=" SARAH.Chen@Example.com", phone="07911 123456", consent="yes", utm_source="facebook"),
    row(10, "D", "2024-05-02T12:05:00", "booking", engagement_seconds="5", urgency="immediate"),
    row(11, "A", "2024-05-02T14:30:00", "search", engagement_seconds="25"),
    row(12, "C", "2024-05-01T10:12:00", "ai_rec", engagement_seconds="10", phone="+44 7412 345678", consent="1"),
    row(13, "C", "2024-05-01T10:11:00", "page_view", engagement_seconds="10"),
    row(14, "B", "2024-05-01T10:04:00", "search", engagement_seconds="5", email="no.consent@example.com"),
    row(15, "E", "2024-05-03T09:00:00", "face_analysis", engagement_seconds="300", consent="true",
        email="sarah.chen@example.com"),
]


def moment(text):
    """A naive timestamp, read in the clinic's time zone as the importer reads it."""
    return timezone.make_aware(datetime.fromisoformat(text))


def track_one_by_one(rows):
    """The reference: each row through the middleware's session_touch, the tracker
    and the contact form's service, in file order, as the live site would have."""
    for values in rows:
        at = moment(values["timestamp"])
        public_id = importer.legacy_session_public_id(values["session_id"])
        session = UserSession.objects.filter(public_id=public_id).first() or session_start(
            public_id=public_id, started_at=at, landing_page=values.get("landing_page", ""),
            utm={name: values.get(name, "") for name in ("utm_source", "utm_medium", "utm_campaign")},
        )
        session_touch(session=session, now=at)
        data = json.loads(values.get("data", "{}"))
        for name in ("procedures",):
            if values.get(name):
                data[name] = values[name].split(";")
        for name in ("urgency", "budget_level"):
            if values.get(name):
                data[name] = values[name]
        interaction = track_user_interaction(
            session, importer.LEGACY_TYPES[values["type"]], data,
            engagement_seconds=int(values.get("engagement_seconds", 0)), occurred_at=at,
        )
        if values.get("consent") in ("true", "yes", "1") and (values.get("email") or values.get("phone")):
            create_lead_from_form(
                session=session, interaction=interaction, occurred_at=at, trusted=True,
                data={"email": values.get("email", ""), "phone": values.get("phone", ""),
                      "first_name": values.get("first_name", ""), "consent_contact": True},
            )


def everything_stored():
    def email(lead):
        return lead.email if lead else None

    return {
        "interactions": [
            (i.session.public_id, i.interaction_type, i.data, i.engagement_seconds, i.created_at, i.score,
             i.score_reasons, i.converted, email(i.lead))
            for i in UserInteraction.objects.order_by("pk").select_related("session", "lead")
        ],
        "sessions": {
            s.public_id: (s.interaction_count, s.engagement_seconds, s.visit_count, s.score, s.engagement_level,
                          s.last_seen_at, s.utm_source, s.landing_page, email(s.lead), s.converted_at)
            for s in UserSession.objects.select_related("lead")
        },
        "leads": {
            lead.email: (lead.phone, lead.first_name, lead.lead_score, lead.engagement_level, lead.score_reasons,
                         lead.source, lead.interaction.created_at, lead.utm_source, lead.created_at,
                         lead.high_intent_notified_at is not None)
            for lead in Lead.objects.select_related("interaction")
        },
    }


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_imported_scores_equal_tracking_the_same_rows_one_by_one(tmp_path, batch_size):
    run_import(write_csv(tmp_path / "rows.csv", EQUALITY_ROWS), "--batch-size", str(batch_size))
    imported = everything_stored()
    earliest = dict(UserSession.objects.values_list("public_id", "created_at"))
    Lead.objects.all().delete()
    UserSession.objects.all().delete()

    track_one_by_one(EQUALITY_ROWS)

    assert everything_stored() == imported
    # One difference by design: an imported session starts at its earliest row.
    assert earliest[importer.legacy_session_public_id("A")] == moment("2024-05-01T09:58:00")
    assert Lead.objects.count() == 2


def test_the_same_email_in_two_sessions_makes_one_lead_with_both_journeys(tmp_path):
    run_import(write_csv(tmp_path / "rows.csv", EQUALITY_ROWS))
    sarah = Lead.objects.get(email="sarah.chen@example.com")
    assert sarah.phone == "+447911123456"
    assert set(sarah.sessions.values_list("public_id", flat=True)) == {
        importer.legacy_session_public_id(name) for name in "ADE"
    }
    assert sarah.interactions.count() == 9
    # Imported consent says where it came from: the old system, not our web form.
    assert set(Consent.objects.filter(lead=sarah).values_list("method", flat=True)) == {ConsentMethod.IMPORT}
    assert Consent.objects.filter(lead=sarah).count() == 3


def test_importing_a_returning_patient_keeps_how_far_their_lead_got(tmp_path):
    """A lead booked and then lost, met again in a later import: the funnel still counts
    it as booked (the lead's furthest stage survives the importer's update)."""
    from leads import selectors
    from leads.models import LeadStatus
    from leads.services import lead_update_status

    run_import(write_csv(tmp_path / "first.csv", EQUALITY_ROWS[:7]))
    sarah = Lead.objects.get(email="sarah.chen@example.com")
    for status in (LeadStatus.BOOKED, LeadStatus.LOST):
        lead_update_status(lead=sarah, status=status)
    period = selectors.period_for_days(datetime(2024, 5, 1).date(), datetime(2024, 5, 31).date())

    run_import(write_csv(tmp_path / "again.csv", EQUALITY_ROWS[7:]))

    sarah.refresh_from_db()
    assert (sarah.status, sarah.furthest_stage, sarah.sessions.count()) == ("lost", "booked", 3)
    steps = {step.label: step.count for step in selectors.funnel(period=period)}
    assert (steps["Became leads"], steps["Contacted"], steps["Booked"], steps["Won"]) == (2, 1, 1, 0)


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_photo_analysis_agreed_to_becomes_a_consent_record_when_the_visitor_becomes_a_lead(tmp_path, batch_size):
    """Batch size 1: the visitor was stored by an earlier batch (the lead service makes
    the lead); 1000: all in one batch (the lead is made in memory). Same records."""
    path = write_csv(tmp_path / "rows.csv", [
        row(1, "P", "2024-05-01T10:00:00", "skin_analysis", data='{"photo_consent": "photo-v1"}'),
        row(2, "P", "2024-05-01T10:01:00", "skin_analysis", data='{"photo_consent": "photo-v0"}'),
        row(3, "P", "2024-05-01T10:05:00", "contact", email="pat@example.com", consent="yes"),
    ])
    run_import(path, "--batch-size", str(batch_size))
    lead = Lead.objects.get(email="pat@example.com")
    records = set(Consent.objects.filter(lead=lead).values_list("purpose", "method", "created_at"))
    # Only the wording still shown (photo-v1) is recorded; the older agreement is not.
    assert records == {
        ("photo_analysis", ConsentMethod.IMPORT, moment("2024-05-01T10:00:00")),
        ("contact", ConsentMethod.IMPORT, moment("2024-05-01T10:05:00")),
    }
    assert lead.interaction.external_id == "legacy:3" and lead.source == "contact_form"
    assert set(lead.interactions.values_list("converted", flat=True)) == {True}


def test_contact_details_without_consent_are_not_kept(tmp_path):
    out, err = run_import(write_csv(tmp_path / "rows.csv", EQUALITY_ROWS))
    assert "contact details without consent dropped from 1 row" in out
    assert not Lead.objects.filter(email="no.consent@example.com").exists()
    assert "no.consent" not in json.dumps(list(UserInteraction.objects.values_list("data", flat=True)))
    b = UserSession.objects.get(public_id=importer.legacy_session_public_id("B"))
    assert b.lead is None and b.interaction_count == 3


def test_a_dry_run_counts_like_the_real_run_and_writes_nothing(tmp_path):
    out, err = run_import(SAMPLE, "--dry-run", "--batch-size", "50")
    assert f"would have imported {SAMPLE_ROWS}, skipped 0, rejected {SAMPLE_REJECTED}" in out
    assert "line 51 (id 90001)" in err
    assert not UserSession.objects.exists()
    assert not UserInteraction.objects.exists()
    assert not Lead.objects.exists() and not Consent.objects.exists()


def test_a_batch_that_fails_is_not_half_saved_and_earlier_batches_stay(tmp_path):
    path = write_csv(tmp_path / "rows.csv", EQUALITY_ROWS)
    real_bulk_insert = leads.importer.batch.bulk_insert
    calls = []

    def failing_second_batch(model, *args, **kwargs):
        if model is UserInteraction:
            calls.append(1)
            if len(calls) == 2:
                raise DatabaseError("disk full")
        return real_bulk_insert(model, *args, **kwargs)

    with mock.patch.object(leads.importer.batch, "bulk_insert", side_effect=failing_second_batch):
        with pytest.raises(CommandError) as failed:
            run_import(path, "--batch-size", "3")
    assert "lines 5-7 (disk full). Nothing of them was saved; the 3 rows imported before them stay" in str(failed.value)

    assert sorted(UserInteraction.objects.values_list("external_id", flat=True)) == [
        "legacy:1", "legacy:2", "legacy:3"]
    assert UserSession.objects.get(public_id=importer.legacy_session_public_id("A")).interaction_count == 2

    out, err = run_import(path, "--batch-size", "3")
    assert "imported 12, skipped 3, rejected 0" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read"),
        ("", "The file is empty"),
        ("id,session,timestamp\n1,S1,2024-05-01\n", "lacks the required column(s) session_id, type"),
        (b"id,session_id,timestamp,type\n1,S1,2024-05-01,search,\xff\xfe\n", "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_imported_is_a_command_error(tmp_path, content, message):
    path = tmp_path / "export.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        run_import(path)
    assert not UserInteraction.objects.exists()


def test_unknown_columns_are_named_and_ignored(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,session_id,timestamp,type,browser\n1,S1,2024-05-01,search,Firefox\n")
    out, err = run_import(path)
    assert "Ignored unknown column(s): browser." in err
    assert UserInteraction.objects.get().data == {}


class Terminal(StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_is_drawn_only_on_a_terminal():
    terminal, err = Terminal(), StringIO()
    call_command("import_interactions", str(SAMPLE), "--batch-size", "100", stdout=terminal, stderr=err)
    assert "rows/s" in terminal.getvalue() and "100%" in terminal.getvalue()
    out, err = run_import(SAMPLE)
    assert "rows/s" not in out


def test_importing_history_does_not_email_staff_about_old_leads(tmp_path, mailoutbox, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    from leads.models import Consent, Lead

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_interactions", str(SAMPLE), stdout=StringIO(), stderr=StringIO())
    assert Lead.objects.filter(engagement_level="high").exists()
    assert mailoutbox == []
    assert not Lead.objects.filter(engagement_level="high", high_intent_notified_at__isnull=True).exists()
    assert set(Consent.objects.values_list("method", flat=True)) == {"import"}
