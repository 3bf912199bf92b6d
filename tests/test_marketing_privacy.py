"""Marketing never sees a patient, by any road: not in a list filter's answers, the
browsable API's forms, free text the patient typed, staff e-mails or the first touch."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING
from core.redaction import REDACTED, name_tokens, redact, redact_data
from interactions.models import InteractionType, UserSession
from interactions.tracker import track_user_interaction
from leads.gdpr import person_erase
from leads.models import Lead
from leads.services import lead_adjust_score
from leads.tasks import notify_staff_of_high_intent_lead
from scoring.models import LeadScoringRule

SARAH_EMAIL = "sarah.chen@example.com"
TYPED = "Sarah Chen here, 07911 100201 or sarah.chen@example.com: zygomatic botox price?"
# What would say who Sarah is, in any page or answer marketing gets.
WHO = re.compile(r"\bsarah\b|\bchen\b|7911100201|07911 100201|slot before the 20th|7c1f", re.IGNORECASE)


def staff(role: str, email: str = ""):
    user = get_user_model().objects.create_user(role.lower().replace(" ", "_"), email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def as_role(client, demo):
    def login(role: str):
        client.force_login(staff(role))
        return client
    return login


@pytest.fixture
def api(demo):
    def as_role(role: str):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff(role)).key}")
        return client
    return as_role


@pytest.fixture
def sarah(demo):
    """The report's Sarah, who typed who she is into the search box, was called back
    (a staff adjustment with her name in its reason), and came from a personal link."""
    lead = Lead.objects.get(email=SARAH_EMAIL)
    session = lead.sessions.get()
    track_user_interaction(session, InteractionType.SEARCH, {"query": TYPED},
                           page_url="/treatments/?email=sarah.chen@example.com")
    lead_adjust_score(lead=lead, points=5, reason="Called Sarah Chen back on 07911 100201", by=None)
    first_touch = {"landing_page": "/enhanced-ai/?ref=vip-7c1f", "referrer": "https://mail.example.org/7c1f",
                   "utm_term": "sarah chen botox", "utm_content": "for sarah.chen@example.com"}
    Lead.objects.filter(pk=lead.pk).update(**first_touch)
    UserSession.objects.filter(pk=session.pk).update(**first_touch)
    lead.refresh_from_db()
    return lead


# -- 1. List filters, search and ordering: no lookup reads a contact field ----------

CONTACT_LOOKUPS = {
    "/admin/leads/lead/": [
        "first_name", "email__istartswith", "phone__startswith", "last_name__regex", "message__icontains",
        "email__gte", "email__lt", "phone__gt", "first_name__in", "last_name__isnull", "email__iexact",
        "landing_page__contains", "referrer__startswith", "utm_term__icontains", "utm_content__gte",
        "score_reasons__icontains", "sessions__landing_page__contains", "interactions__data__query__icontains",
        "notes__text__icontains", "owner__email__gte",
    ],
    "/admin/interactions/userinteraction/": [
        "data__query__icontains", "data__icontains", "page_url__contains", "score_reasons__icontains",
        "lead__email__gte", "lead__first_name", "session__landing_page__contains", "data__transcript__gte",
    ],
    "/admin/interactions/usersession/": [
        "landing_page__contains", "referrer__gte", "utm_term__icontains", "utm_content", "user_agent__contains",
        "lead__email__gte", "lead__phone__startswith", "interactions__data__query__icontains",
    ],
}


@pytest.mark.parametrize(
    ("page", "lookup"), [(page, lookup) for page, lookups in CONTACT_LOOKUPS.items() for lookup in lookups]
)
def test_marketing_may_not_filter_a_list_by_anything_that_says_who_a_patient_is(as_role, sarah, page, lookup):
    response = as_role(MARKETING).get(page, {lookup: "s"})
    assert response.status_code == 400


@pytest.mark.parametrize("query", [
    "first_name=Sarah", "email__istartswith=sarah.chen", "phone__startswith=%2B447911", "last_name__regex=^C",
    "message__icontains=",
])
def test_the_reported_filters_are_refused(as_role, sarah, query):
    assert as_role(MARKETING).get(f"/admin/leads/lead/?{query}").status_code == 400
    assert as_role(FRONT_DESK).get(f"/admin/leads/lead/?{query}").status_code == 200


def test_the_335_request_extraction_finds_no_oracle(as_role, sarah):
    """The attack: with ?id__exact=<lead>&email__gte=<guess>, one row or none answers
    yes or no, and a binary search spells the address out. Every probe of it (and of
    the name and phone) is refused, so no answer depends on the secret."""
    client = as_role(MARKETING)
    statuses = {
        client.get("/admin/leads/lead/", {"id__exact": sarah.pk, f"{field}__gte": guess}).status_code
        for field in ("email", "first_name", "last_name", "phone", "message")
        for guess in ("", "a", "m", "s", "sarah.", "sarah.chen@example.com", "z", "+44")
    }
    assert statuses == {400}


def test_front_desk_still_filter_and_search_by_contact_details(as_role, sarah):
    client = as_role(FRONT_DESK)
    found = client.get("/admin/leads/lead/", {"email__istartswith": "sarah.chen"})
    assert found.status_code == 200 and found.context["cl"].result_count == 1
    assert client.get("/admin/interactions/userinteraction/", {"q": "zygomatic"}).context["cl"].result_count == 1


def test_marketing_cannot_search_what_patients_typed(as_role, sarah):
    client = as_role(MARKETING)
    interactions = client.get("/admin/interactions/userinteraction/", {"q": "zygomatic"})
    assert interactions.status_code == 200 and interactions.context["cl"].result_count == 0
    sessions = client.get("/admin/interactions/usersession/", {"q": "7c1f"})
    assert sessions.context["cl"].result_count == 0


def test_marketing_cannot_sort_the_interaction_log_by_page_address(as_role, sarah):
    client = as_role(MARKETING)
    changelist = client.get("/admin/interactions/userinteraction/").context["cl"]
    assert "page_url" not in changelist.list_display
    assert all(not column.startswith("page_url") for column in changelist.get_ordering_field_columns().values()
               if isinstance(column, str))


# -- 2. The browsable API renders no lead by name ------------------------------------

def test_the_browsable_api_filter_form_lists_no_lead_by_name(as_role, sarah):
    page = as_role(MARKETING).get("/api/v1/interactions/", HTTP_ACCEPT="text/html").content.decode()
    assert '<select name="lead"' not in page and 'name="lead"' in page
    assert not WHO.search(page)


def test_interactions_still_filter_by_lead_number(api, sarah):
    client = api(FRONT_DESK)
    body = client.get("/api/v1/interactions/", {"lead": sarah.pk, "page_size": 200}).json()
    assert body["count"] == sarah.interactions.count()
    assert client.get("/api/v1/interactions/", {"lead": "x"}).status_code == 400


# -- 3. Free text is redacted for marketing everywhere it shows ------------------------

def marketing_views_of(client, lead) -> dict[str, str]:
    session = lead.sessions.get()
    search = lead.interactions.get(interaction_type=InteractionType.SEARCH)
    return {
        "journey": client.get(f"/admin/interactions/usersession/{session.pk}/change/"),
        "lead page": client.get(f"/admin/leads/lead/{lead.pk}/change/"),
        "interaction log": client.get("/admin/interactions/userinteraction/", {"lead": lead.pk}),
        "interaction page": client.get(f"/admin/interactions/userinteraction/{search.pk}/change/"),
        "sessions list": client.get("/admin/interactions/usersession/"),
        "dashboard csv": client.get("/admin/comprehensive/dashboard/", {"format": "csv"}),
    }


def test_marketing_sees_what_a_patient_typed_redacted_in_the_back_office(as_role, sarah):
    views = marketing_views_of(as_role(MARKETING), sarah)
    for name, response in views.items():
        assert response.status_code == 200, name
        assert not WHO.search(response.content.decode()), name
    for name in ("journey", "lead page", "interaction page"):
        assert REDACTED in views[name].content.decode(), name
    # Redacted, not removed: what was wanted stays readable.
    assert "zygomatic botox price" in views["interaction page"].content.decode()


def test_front_desk_sees_what_the_patient_typed(as_role, sarah):
    views = marketing_views_of(as_role(FRONT_DESK), sarah)
    assert TYPED in views["interaction page"].content.decode()
    assert "Called Sarah Chen back" in views["lead page"].content.decode()
    assert "vip-7c1f" in views["journey"].content.decode()


def test_marketing_reads_the_api_with_free_text_redacted(api, sarah):
    client = api(MARKETING)
    interactions = client.get("/api/v1/interactions/", {"lead": sarah.pk, "page_size": 200}).json()["results"]
    lead = client.get(f"/api/v1/leads/{sarah.pk}/").json()
    assert not WHO.search(str(interactions)) and not WHO.search(str(lead))
    search = next(row for row in interactions if row["interaction_type"] == "search")
    assert search["data"]["query"] == f"{REDACTED} {REDACTED} here, {REDACTED} or {REDACTED}: zygomatic botox price?"
    assert search["page_url"] == "/treatments/"
    assert not {"landing_page", "referrer"} & set(lead)
    assert lead["utm_term"] == f"{REDACTED} {REDACTED} botox"
    assert any(reason["rule"].startswith("Adjusted by staff") for reason in lead["score_reasons"])
    full = api(CLINIC_MANAGER).get(f"/api/v1/leads/{sarah.pk}/").json()
    assert full["landing_page"] == "/enhanced-ai/?ref=vip-7c1f" and full["utm_term"] == "sarah chen botox"


def test_redaction_replaces_emails_phones_and_the_persons_names():
    names = name_tokens("Sarah", "Chen-Wong", "s.chen@example.com")
    text = "I'm Sarah CHEN-WONG (sarah@mail.example, +44 (0)7911-100-201); budget £5000 by 2026"
    assert redact(text, names=names) == (
        f"I'm {REDACTED} {REDACTED}-{REDACTED} ({REDACTED}, {REDACTED}); budget £5000 by 2026"
    )
    assert redact("Sarahs lips", names=names) == "Sarahs lips"
    assert redact("after 2026-12-01, on 07911100201", names=names) == f"after 2026-12-01, on {REDACTED}"


def test_interaction_data_keeps_what_was_looked_at_and_redacts_what_was_typed():
    data = {"query": "call Sarah on 07911100201", "procedures": ["botox"], "preferred_date": "2026-12-01",
            "recommendations": [{"procedure": "botox", "reason": "Smooths lines (ref 12345678)"}]}
    assert redact_data(data, names={"sarah"}) == {**data, "query": f"call {REDACTED} on {REDACTED}"}


# -- 4. Hot-lead e-mails go only to staff who may see contact details ------------------

def test_a_hot_lead_email_reaches_no_one_without_the_contact_permission(sarah, mailoutbox, settings):
    staff(MARKETING, "marketing@clinic.test")
    staff(FRONT_DESK, "desk@clinic.test")
    staff(CLINIC_MANAGER, "manager@clinic.test")
    settings.LEAD_NOTIFICATION_EMAILS = []
    notify_staff_of_high_intent_lead.call(sarah.pk)
    recipients = set(mailoutbox[0].to)
    assert {"desk@clinic.test", "manager@clinic.test"} <= recipients
    assert "marketing@clinic.test" not in recipients
    assert "Sarah" in mailoutbox[0].body


def test_the_notification_list_narrows_the_recipients_and_never_widens_them(sarah, mailoutbox, settings):
    staff(MARKETING, "marketing@clinic.test")
    staff(FRONT_DESK, "desk@clinic.test")
    settings.LEAD_NOTIFICATION_EMAILS = ["marketing@clinic.test", "Desk@clinic.test", "all@clinic.test"]
    notify_staff_of_high_intent_lead.call(sarah.pk)
    assert mailoutbox[0].to == ["desk@clinic.test"]


# -- 5. The first touch: landing page and referrer hidden, term and content erased ----

def test_marketing_sees_no_landing_page_or_referrer(as_role, sarah):
    client = as_role(MARKETING)
    for url in (f"/admin/leads/lead/{sarah.pk}/change/",
                f"/admin/interactions/usersession/{sarah.sessions.get().pk}/change/"):
        page = client.get(url).content.decode()
        assert "7c1f" not in page and "Landing page" not in page and "Referrer" not in page


def test_erasure_clears_the_campaign_term_and_content(sarah):
    session = sarah.sessions.get()
    person_erase(identifier=SARAH_EMAIL)
    sarah.refresh_from_db()
    session.refresh_from_db()
    assert (sarah.utm_term, sarah.utm_content, session.utm_term, session.utm_content) == ("", "", "", "")
    assert sarah.utm_source == "google"  # the campaign's own figures stay


# -- 6. A scoring rule cannot read what a patient typed for marketing ---------------

FREE_TEXT_RULE = {"name": "Knows Chen", "kind": "bonus", "points": "5", "order": "99", "is_active": "on",
                  "condition": '{"any": [{"field": "urgency", "op": "eq", "value": "soon"},'
                               ' {"field": "data.query", "op": "contains", "value": "Chen"}]}'}


def test_marketing_cannot_save_or_preview_a_rule_that_reads_what_patients_typed(as_role, sarah):
    """Saved, the rule would name in each matching lead's score reasons who typed
    "Chen"; previewed, it would count them."""
    client = as_role(MARKETING)
    saved = client.post("/admin/scoring/leadscoringrule/add/", FREE_TEXT_RULE)
    assert saved.status_code == 200 and "data.query may hold what a patient typed" in saved.content.decode()
    preview = client.post("/admin/comprehensive/lead-scoring/preview/", FREE_TEXT_RULE)
    assert preview.status_code == 400 and "would change" not in preview.content.decode()
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username="marketing"))
    response = api.post("/api/v1/scoring-rules/", {"name": "Knows Sarah", "kind": "bonus", "points": 5, "condition": {
        "field": "data.transcript", "op": "contains", "value": "Sarah"}}, format="json")
    assert response.status_code == 400 and "data.transcript" in response.json()["errors"]["condition"][0]
    assert not LeadScoringRule.objects.filter(name="Knows Chen").exists()


def test_marketing_still_writes_rules_on_what_was_looked_at(as_role, sarah):
    rule = {**FREE_TEXT_RULE, "condition": '{"field": "data.budget_range", "op": "eq", "value": "over_5000"}'}
    assert as_role(MARKETING).post("/admin/scoring/leadscoringrule/add/", rule).status_code == 302


def test_a_manager_may_write_a_rule_on_free_text(as_role, sarah):
    assert as_role(CLINIC_MANAGER).post("/admin/scoring/leadscoringrule/add/", FREE_TEXT_RULE).status_code == 302


@pytest.mark.parametrize("value", ["x", "1.5", "9.223372036854776e+18", str(2**63)])
def test_a_lead_number_that_is_not_one_is_a_400(api, value):
    response = api(FRONT_DESK).get("/api/v1/interactions/", {"lead": value})
    assert response.status_code == 400 and "lead" in response.json()["errors"]
