"""Leads as CSV for staff who may see contact details (checked by the caller)."""

from django.http import HttpResponse
from django.utils import timezone

from core import csv
from core.db import reading_for_analytics

COLUMNS = [
    ("id", "pk"), ("created", "created_at"), ("first name", "first_name"), ("last name", "last_name"),
    ("email", "email"), ("phone", "phone"), ("score", "lead_score"), ("engagement", "engagement_level"),
    ("status", "status"), ("source", "source"), ("utm source", "utm_source"), ("utm medium", "utm_medium"),
    ("utm campaign", "utm_campaign"), ("owner", "owner__username"), ("value", "value"),
]


def leads_csv(queryset) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{timezone.localdate()}.csv"'
    writer = csv.writer(response)
    writer.writerow([title for title, _ in COLUMNS])
    # core.csv keeps every cell text (CSV injection).
    with reading_for_analytics():
        writer.writerows(queryset.order_by("pk").values_list(*(field for _, field in COLUMNS)))
    return response

