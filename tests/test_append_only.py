"""The admin cannot break what the log promises: interactions, sessions, consents,
status history, notes and audit events are never deleted by anyone; a person leaves
only through the audited GDPR erasure."""

import ast
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.roles import APPEND_ONLY_DELETE, CLINIC_MANAGER, FRONT_DESK, MARKETING, role_permissions
from interactions.models import UserInteraction, UserSession
from leads.models import AuditEvent, Consent, Lead

ROOT = Path(__file__).resolve().parent.parent
OUR_APPS = {"core", "scoring", "interactions", "leads", "calculators", "clinic"}


def staff_in(role: str):
    user = get_user_model().objects.create_user(role.lower().replace(" ", "_"), password="pw-12345-x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def manager(client, demo):
    client.force_login(staff_in(CLINIC_MANAGER))
    return client


@pytest.fixture
def superuser(client, demo):
    client.login(username="admin", password="admin")
    return client


RECORDS = {
    "interactions/userinteraction": UserInteraction,
    "interactions/usersession": UserSession,
    "leads/consent": Consent,
    "leads/lead": Lead,
}


@pytest.mark.parametrize("who", ["manager", "superuser"])
@pytest.mark.parametrize("page", list(RECORDS))
def test_nobody_deletes_a_record_in_the_admin(request, demo, who, page):
    # `demo` named here, not only through the fixture looked up below: pytest-django
    # orders tests by the fixtures they name, and must run this one with the database tests.
    client = request.getfixturevalue(who)
    row = RECORDS[page].objects.order_by("pk").first()
    assert client.get(f"/admin/{page}/{row.pk}/delete/").status_code == 403
    client.post(f"/admin/{page}/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert RECORDS[page].objects.filter(pk=row.pk).exists()
    assert "delete_selected" not in client.get(f"/admin/{page}/").content.decode()


def test_nobody_deletes_an_audit_event(superuser):
    from leads.gdpr import purge_expired

    purge_expired(actor_label="test")
    event = AuditEvent.objects.get()
    assert superuser.get(f"/admin/leads/auditevent/{event.pk}/delete/").status_code == 403


def test_no_role_holds_a_delete_permission_on_the_records(demo):
    held = set(Permission.objects.filter(group__name__in=[CLINIC_MANAGER, FRONT_DESK, MARKETING])
               .values_list("content_type__app_label", "codename"))
    assert held & set(APPEND_ONLY_DELETE) == set()
    assert ("leads", "erase_lead") in set(
        Permission.objects.filter(group__name=CLINIC_MANAGER).values_list("content_type__app_label", "codename"))


def test_the_groups_in_the_database_are_the_roles_of_clinic_roles(db):
    """The migrations carry frozen copies of the role lists; this holds them to the spec."""
    for role, expected in role_permissions().items():
        held = set(Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename"))
        assert held == expected, role


def test_the_manager_erases_a_person_and_front_desk_cannot(manager, client):
    lead = Lead.objects.get(email="sarah.chen@example.com")
    manager.post("/admin/leads/lead/", {"action": "erase_personal_data", "_selected_action": [lead.pk],
                                        "confirm": "yes"})
    lead.refresh_from_db()
    assert lead.erased_at is not None and AuditEvent.objects.filter(action="erase").exists()
    client.force_login(staff_in(FRONT_DESK))
    other = Lead.objects.get(email="anita.reddy@example.com")
    client.post("/admin/leads/lead/", {"action": "erase_personal_data", "_selected_action": [other.pk],
                                       "confirm": "yes"})
    other.refresh_from_db()
    assert other.erased_at is None


@pytest.mark.parametrize("endpoint", ["leads", "interactions"])
def test_the_api_deletes_nothing(demo, endpoint):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_in(CLINIC_MANAGER)).key}")
    model = Lead if endpoint == "leads" else UserInteraction
    row = model.objects.first()
    assert client.delete(f"/api/v1/{endpoint}/{row.pk}/").status_code in (403, 405)
    assert model.objects.filter(pk=row.pk).exists()


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_migrations_never_import_live_code():
    """A migration runs the same on any database, at any later version of the code: it
    copies what it needs (roles, rules, the catalog) instead of importing it."""
    wrong = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & OUR_APPS)
        for path in ROOT.glob("*/migrations/*.py")
    }
    assert {path: names for path, names in wrong.items() if names} == {}
