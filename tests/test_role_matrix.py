"""Every admin and API address, for every role and for anonymous visitors: who may open
it, and that marketing never finds a patient in it. The addresses come from the URL
conf itself, so a page added later is in the matrix without anyone listing it here;
one this file does not know how to judge fails the test until someone decides."""

import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver

from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING
from interactions.models import Experiment, ExperimentKind, InteractionType, UserSession
from interactions.tracker import track_user_interaction
from leads.models import AuditEvent, CampaignCost, Lead
from leads.services import lead_adjust_score
from scoring.models import LeadScoringRule

ANONYMOUS = "anonymous"
ROLES = [CLINIC_MANAGER, FRONT_DESK, MARKETING, ANONYMOUS]
SARAH_EMAIL = "sarah.chen@example.com"
# Anything that would say who Sarah is: her contact details, what she typed, her first touch.
WHO = re.compile(r"\bsarah\b|\bchen\b|7911100201|07911 100201|slot before the 20th|7c1f", re.IGNORECASE)

# Who may open each admin list and object page (the contact rule: consents and
# appointments name the patient, so marketing has neither).
VIEWERS = {
    "leads.lead": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "leads.consent": {CLINIC_MANAGER, FRONT_DESK},
    "leads.appointment": {CLINIC_MANAGER, FRONT_DESK},
    "leads.auditevent": {CLINIC_MANAGER},
    "leads.campaigncost": {CLINIC_MANAGER, MARKETING},
    "leads.conversionmodel": {CLINIC_MANAGER, FRONT_DESK, MARKETING},  # figures, no patient
    "interactions.usersession": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "interactions.userinteraction": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "scoring.leadscoringrule": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "scoring.scoringsettings": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "scoring.ruleversion": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "calculators.procedure": {CLINIC_MANAGER, FRONT_DESK, MARKETING},
    "interactions.experiment": {CLINIC_MANAGER, MARKETING},  # A/B tests of the contact offer
    "core.clinicprofile": {CLINIC_MANAGER},
    "auth.user": {CLINIC_MANAGER},
    "auth.group": {CLINIC_MANAGER},
    # Machinery for the developers (superusers), not for any clinic role.
    "authtoken.tokenproxy": set(),
    "axes.accessattempt": set(),
    "axes.accesslog": set(),
    "axes.accessfailurelog": set(),
    "django_tasks_database.dbtaskresult": set(),
}
STAFF = {CLINIC_MANAGER, FRONT_DESK, MARKETING}
# The site's own admin pages, by URL name: who gets what.
ADMIN_PAGES = {
    "index": {role: 200 for role in STAFF},
    "login": {role: 302 for role in STAFF},  # already logged in: on to the index
    "logout": {role: 405 for role in STAFF},  # logging out takes a POST
    "password_change": {role: 200 for role in STAFF},
    "password_change_done": {role: 200 for role in STAFF},
    "autocomplete": {role: 403 for role in STAFF},  # asked without a field to complete
    "jsi18n": {role: 200 for role in STAFF},
    "view_on_site": {role: 404 for role in STAFF},  # leads have no public page
    "comprehensive_dashboard": {role: 200 for role in STAFF},
    "comprehensive_cohorts": {role: 200 for role in STAFF},
    "comprehensive_interactions": {role: 302 for role in STAFF},  # the interaction log's list
    "comprehensive_lead_scoring": {role: 200 for role in STAFF},
    # Previews are POSTed by the rule form; a GET goes back to the page, for rule editors.
    "comprehensive_rule_preview": {CLINIC_MANAGER: 302, FRONT_DESK: 403, MARKETING: 302},
    "comprehensive_rule_preview_new": {CLINIC_MANAGER: 302, FRONT_DESK: 403, MARKETING: 302},
    "leads_lead_adjust_score": {CLINIC_MANAGER: 200, FRONT_DESK: 200, MARKETING: 403},
    "leads_lead_score_history": {role: 200 for role in STAFF},
    "auth_user_password_change": {CLINIC_MANAGER: 200, FRONT_DESK: 403, MARKETING: 403},
    "catch_all": {role: 404 for role in STAFF},
}
# The apps each role's admin home lists; any other app's index is a 404.
APPS = {
    CLINIC_MANAGER: {"auth", "core", "scoring", "interactions", "leads", "calculators"},
    FRONT_DESK: {"scoring", "interactions", "leads", "calculators"},
    MARKETING: {"scoring", "interactions", "leads", "calculators"},
}
# Staff API routes by URL name: who may read them (by their model permissions).
API_READERS = {
    "api-root": STAFF,
    "lead-list": STAFF, "lead-detail": STAFF,
    "interaction-list": STAFF, "interaction-detail": STAFF,
    "scoring-rule-list": STAFF, "scoring-rule-detail": STAFF,
    "api-dashboard": STAFF,
}
# Public API routes: the same for everyone.
API_PUBLIC = {
    "api-track": 405,  # tracking takes a POST
    "api-schema": 200,
    "api-docs": 200,
}


@dataclass(frozen=True)
class Address:
    url: str
    name: str  # the URL name, or "catch_all" / "object_redirect" for unnamed ones
    model: str = ""  # "app_label.model_name" for a ModelAdmin's own views
    view: str = ""  # changelist, add, change, history, delete, redirect


def patterns(resolver=None, prefix=""):
    """(route, name, pattern, model admin) for every pattern of the URL conf."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry.name, entry, getattr(entry.callback, "model_admin", None)


def concrete(route: str, values: dict) -> str:
    """The route with its parameters filled in, as a path."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"<drf_format_suffix:format>", ".json", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")


def sample_objects(sarah: Lead, manager) -> dict[str, object]:
    """One object per admin model, for its object pages (Sarah's own where she has one)."""
    wanted = {
        "leads.lead": sarah,
        "leads.consent": sarah.consents.first(),
        "leads.appointment": sarah.appointments.first() or Lead.objects.filter(appointments__isnull=False)
        .first().appointments.first(),
        "leads.auditevent": AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, subject=f"lead {sarah.pk}"),
        "leads.campaigncost": CampaignCost.objects.first() or CampaignCost.objects.create(
            spent_on="2026-11-01", utm_source="google", utm_campaign="botox-spring", amount=100),
        "interactions.usersession": sarah.sessions.get(),
        "interactions.userinteraction": sarah.interactions.get(interaction_type=InteractionType.SEARCH),
        "interactions.experiment": Experiment.objects.create(name="Offer threshold", kind=ExperimentKind.PROMPT_THRESHOLD),
        "auth.user": manager,
        "auth.group": Group.objects.get(name=MARKETING),
    }
    for model_admin in admin.site._registry.values():
        label = model_admin.opts.label_lower
        if label not in wanted:
            wanted[label] = model_admin.model._default_manager.first()
    return wanted


def addresses(sarah: Lead, manager) -> list[Address]:
    objects = sample_objects(sarah, manager)
    rule = LeadScoringRule.objects.first()
    api_objects = {"lead": sarah.pk, "interaction": objects["interactions.userinteraction"].pk,
                   "scoring-rule": rule.pk}
    found = []
    for route, name, pattern, model_admin in patterns():
        if not route.startswith(("admin/", "api/")):
            continue
        params = set(pattern.pattern.regex.groupindex)
        if model_admin is not None:
            label = model_admin.opts.label_lower
            obj = objects[label]
            view = name.rsplit("_", 1)[-1] if name else "redirect"
            if "object_id" in params and obj is None:
                continue  # nothing of this kind to open (no tokens, no lockouts in the demo)
            found.append(Address(concrete(route, {"object_id": getattr(obj, "pk", "")}), name or "object_redirect",
                                 label, view))
        elif route.startswith("admin/") and "app_label" in params:
            apps = re.search(r"\(\?P<app_label>([^)]*)\)", route).group(1).split("|")
            found.extend(Address(concrete(route, {"app_label": app}), f"app_list:{app}") for app in apps)
        elif route.startswith("admin/"):
            values = {
                "object_id": rule.pk if "rule_preview" in (name or "") else sarah.pk,
                "content_type_id": ContentType.objects.get_for_model(Lead).pk,
                "id": manager.pk,
                "url": "no-such-page/",
            }
            found.append(Address(concrete(route, values), name or "catch_all"))
        else:
            basename = (name or "").rsplit("-", 1)[0]
            found.append(Address(concrete(route, {"pk": api_objects.get(basename, ""), "format": "json"}), name))
    return found


def expected_status(role: str, address: Address, request_for) -> int | set[int]:
    name = address.name
    if address.url.startswith("/api/"):
        if name in API_PUBLIC:
            return API_PUBLIC[name]
        readers = API_READERS[name]  # a new route must be judged here first
        if role == ANONYMOUS:
            return {401, 403}
        return 200 if role in readers else 403
    if role == ANONYMOUS:
        return 200 if name == "login" else 302  # to the login page
    if name.startswith("app_list:"):
        return 200 if name.split(":")[1] in APPS[role] else 404
    if address.model:
        viewers = VIEWERS[address.model]  # a new admin model must be judged here first
        if address.view == "redirect":
            return 302  # /<id>/ sends everyone on to /<id>/change/, which decides
        if role not in viewers:
            return 403
        model_admin = admin.site._registry[apps.get_model(address.model)]
        obj = model_admin.model._default_manager.get(pk=address.url.split("/")[4]) if address.view == "delete" else None
        # Adding and deleting follow each admin's own rules (read-only records, roles'
        # add and delete permissions); reading follows the table above.
        if address.view == "add":
            return 200 if model_admin.has_add_permission(request_for(role)) else 403
        if address.view == "delete":
            return 200 if model_admin.has_delete_permission(request_for(role), obj) else 403
        if address.model == "scoring.scoringsettings" and address.view == "changelist":
            return 302  # one row of settings: the list opens it
        return 200
    return ADMIN_PAGES[name][role]  # a new admin page must be judged here first


def staff_user(role: str):
    user = get_user_model().objects.create_user(role.lower().replace(" ", "_"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def sarah(demo):
    """Sarah, with free text that names her and a first touch that points at her."""
    lead = Lead.objects.get(email=SARAH_EMAIL)
    session = lead.sessions.get()
    track_user_interaction(session, InteractionType.SEARCH,
                           {"query": "Sarah Chen, 07911 100201, sarah.chen@example.com: botox"},
                           page_url="/treatments/?email=sarah.chen@example.com")
    lead_adjust_score(lead=lead, points=5, reason="Called Sarah Chen back", by=None)
    first_touch = {"landing_page": "/enhanced-ai/?ref=vip-7c1f", "referrer": "https://mail.example.org/7c1f",
                   "utm_term": "sarah chen botox", "utm_content": "for sarah.chen@example.com"}
    Lead.objects.filter(pk=lead.pk).update(**first_touch)
    UserSession.objects.filter(pk=session.pk).update(**first_touch)
    lead.refresh_from_db()
    return lead


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_and_api_address_answers_each_role_as_it_should(sarah, role):
    users = {name: staff_user(name) for name in STAFF}
    client = Client()
    if role != ANONYMOUS:
        client.force_login(users[role])

    def request_for(name):
        request = RequestFactory().get("/")
        request.user = users[name]
        return request

    found = addresses(sarah, users[CLINIC_MANAGER])
    assert {a.view for a in found if a.model} >= {"changelist", "add", "change", "history", "delete", "redirect"}
    assert any(a.name == "comprehensive_dashboard" for a in found) and any(a.name == "lead-list" for a in found)

    wrong, leaks = [], []
    for address in found:
        expected = expected_status(role, address, request_for)
        response = client.get(address.url)
        if response.status_code not in (expected if isinstance(expected, set) else {expected}):
            wrong.append(f"GET {address.url}: {response.status_code}, expected {expected}")
        if role == MARKETING and response.status_code == 200:
            body = b"".join(response) if response.streaming else response.content
            if WHO.search(body.decode(errors="replace")):
                leaks.append(address.url)
            if address.url.startswith("/api/"):
                html = client.get(address.url, HTTP_ACCEPT="text/html").content.decode()
                if WHO.search(html) or '<select name="lead"' in html:
                    leaks.append(f"{address.url} (browsable)")
    assert not wrong, "\n".join(wrong)
    assert not leaks, leaks


def test_the_matrix_would_catch_a_leak(sarah):
    """The check above is not vacuous: front desk, who may, do see Sarah on these pages."""
    client = Client()
    client.force_login(staff_user(FRONT_DESK))
    for url in (f"/admin/leads/lead/{sarah.pk}/change/", f"/api/v1/leads/{sarah.pk}/",
                f"/admin/interactions/usersession/{sarah.sessions.get().pk}/change/"):
        assert WHO.search(client.get(url).content.decode()), url
