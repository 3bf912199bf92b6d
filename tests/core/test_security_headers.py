"""Content-Security-Policy and Permissions-Policy on every response, strict for scripts."""

import re

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("url", ["/", "/treatments/?q=botox", "/enhanced-ai/", "/contact/", "/no-such-page/",
                                 "/admin/login/", "/api/docs/", "/api/schema/"])
def test_every_response_has_a_script_tight_csp_and_a_permissions_policy(client, url):
    response = client.get(url)
    csp = directives(response)
    assert csp["script-src"] == ["'self'"] or csp["script-src"][:1] == ["'self'"]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(csp["script-src"])
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["connect-src"] == ["'self'"]
    assert "camera=()" in response["Permissions-Policy"] and "microphone=()" in response["Permissions-Policy"]


def test_no_page_has_an_inline_script_or_event_handler(client):
    get_user_model().objects.create_superuser("boss", password="pw-12345-x")
    pages = [client.get(url).content.decode() for url in ("/", "/enhanced-ai/", "/enhanced-face/", "/enhanced-cost/",
                                                          "/book/", "/contact/", "/treatments/?q=peel", "/api/docs/")]
    client.login(username="boss", password="pw-12345-x")
    pages += [client.get(url).content.decode() for url in ("/admin/", "/admin/comprehensive/dashboard/",
                                                          "/admin/leads/lead/", "/admin/scoring/leadscoringrule/")]
    for page in pages:
        for tag in re.findall(r"<script\b[^>]*>", page):
            # Data blocks (JSON, the clinic's schema.org JSON-LD) are never run.
            assert "src=" in tag or 'type="application/json"' in tag or 'type="application/ld+json"' in tag, tag
        assert not re.search(r"\son[a-z]+=", page)


def test_the_api_docs_load_their_start_up_script_as_a_file(client):
    page = client.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', page).group(1)
    response = client.get(script_url.replace("&amp;", "&"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()
