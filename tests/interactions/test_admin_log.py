"""The interaction log and the visitor journey in the back office."""

import pytest

from interactions.models import UserInteraction
from leads.models import Lead


@pytest.fixture
def staff(client, demo):
    client.login(username="admin", password="admin")
    return client


def test_the_reports_address_opens_the_log_with_its_filters(staff):
    response = staff.get("/admin/comprehensive/interactions/", {"interaction_type": "face_analysis"})
    assert response.status_code == 302
    assert response.url == "/admin/interactions/userinteraction/?interaction_type=face_analysis"


def test_the_summary_follows_the_lists_filters(staff):
    page = staff.get("/admin/interactions/userinteraction/", {"interaction_type": "face_analysis", "converted__exact": "1"})
    summary = page.context["summary"]
    assert [row.label for row, _ in summary] == ["Face analysis"]
    expected = UserInteraction.objects.filter(interaction_type="face_analysis", converted=True).count()
    assert summary[0][0].interactions == expected == summary[0][0].converted


def test_the_log_can_be_filtered_by_source_including_direct(staff):
    page = staff.get("/admin/interactions/userinteraction/", {"source": "facebook"})
    assert page.context["cl"].result_count == UserInteraction.objects.filter(session__utm_source="facebook").count()
    page = staff.get("/admin/interactions/userinteraction/", {"source": "(direct)"})
    assert page.context["cl"].result_count == UserInteraction.objects.filter(session__utm_source="").count()


def test_the_source_filter_offers_every_source_visitors_came_from(staff):
    from interactions.models import UserSession

    UserSession.objects.create(utm_source="Zeta mail")
    UserSession.objects.create(utm_source="a-partner")
    page = staff.get("/admin/interactions/userinteraction/")
    offered = [choice["display"] for spec in page.context["cl"].filter_specs if spec.title == "source"
               for choice in spec.choices(page.context["cl"])][1:]  # after "All"
    sources = UserSession.objects.exclude(utm_source="").order_by("utm_source").values_list("utm_source", flat=True)
    assert offered == ["(direct)", *dict.fromkeys(sources)]
    assert {"google", "Zeta mail", "a-partner"} <= set(offered)


def test_the_whole_logs_summary_is_the_count_of_every_row(staff):
    from django.db.models import Avg, Count, Q

    page = staff.get("/admin/interactions/userinteraction/")
    shown = {row.label: (row.interactions, row.converted, row.average_score) for row, _ in page.context["summary"]}
    labels = dict(UserInteraction._meta.get_field("interaction_type").choices)
    counted = {
        labels[row["interaction_type"]]: (row["n"], row["converted"], round(row["average"], 1))
        for row in UserInteraction.objects.values("interaction_type").order_by()
        .annotate(n=Count("pk"), converted=Count("pk", filter=Q(converted=True)), average=Avg("score"))
    }
    assert shown == counted and len(shown) > 3


def test_a_visitors_journey_ends_in_the_lead_they_became(staff):
    lead = Lead.objects.get(email="priya.sharma@example.com")
    session = lead.sessions.get()
    page = staff.get(f"/admin/interactions/usersession/{session.pk}/change/").content.decode()
    assert page.index("AI recommendation") < page.index("Face analysis") < page.index("Became a lead")
    assert f"Lead #{lead.pk}</a> (score 85)" in page
    assert "Face analysis +80" in page


def test_the_log_can_be_limited_to_any_range_of_days(staff):
    import datetime

    from django.utils import timezone

    last = timezone.localdate() - datetime.timedelta(days=3)
    first = last - datetime.timedelta(days=6)
    page = staff.get("/admin/interactions/userinteraction/",
                     {"created_at__date__gte": first.isoformat(), "created_at__date__lte": last.isoformat()})
    assert page.status_code == 200
    expected = UserInteraction.objects.filter(created_at__date__gte=first, created_at__date__lte=last).count()
    assert page.context["cl"].result_count == expected > 0
    assert 'id="date-range"' in page.content.decode()
