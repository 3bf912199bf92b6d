"""The back office dashboard (/admin/comprehensive/dashboard/): the clinic's
figures for a chosen period against the one before, as charts, tables and CSV."""

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from core.charts import bar_chart, column_chart
from core import csv
from core.forms import DayInput
from core.db import reading_for_analytics
from leads import selectors

DEFAULT_DAYS = 30
MAX_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, widget=DayInput())
    end = forms.DateField(required=False, widget=DayInput())

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data


def _change(current, previous) -> float | None:
    if current is None or previous in (None, 0):
        return None
    return round((current - previous) / previous * 100, 1)


def dashboard_figures(period: selectors.Period) -> dict:
    """Every figure of the page, its CSV and the API, read from the analytics database."""
    with reading_for_analytics():
        return _figures(period)


def _figures(period: selectors.Period) -> dict:
    daily = period.daily_counts()
    now, before = selectors.overview(period=period, daily=daily), selectors.overview(period=period.previous(), daily=daily)
    kpis = [
        ("Visitors", now.sessions, before.sessions),
        ("Interactions", now.interactions, before.interactions),
        ("Leads", now.leads, before.leads),
        ("High-intent leads", now.high_intent_leads, before.high_intent_leads),
        ("Visitor-to-lead rate (%)", now.session_to_lead_percent, before.session_to_lead_percent),
        ("Tool-use-to-lead rate (%)", now.interaction_to_lead_percent, before.interaction_to_lead_percent),
    ]
    return {
        "overview": now,
        "kpis": [(label, value, previous, _change(value, previous)) for label, value, previous in kpis],
        "funnel": selectors.funnel(period=period, daily=daily),
        "scores": selectors.score_distribution(period=period),
        "attribution": selectors.attribution(period=period, daily=daily),
        "per_day": selectors.interactions_per_day(period=period, daily=daily),
    }


def _charts(figures: dict) -> dict:
    overview = figures["overview"]
    return {
        "tools": bar_chart([(row.label, row.interactions) for row in overview.by_tool], title="Interactions by tool"),
        "funnel": bar_chart([(step.label, step.count) for step in figures["funnel"]], title="Conversion funnel"),
        "bands": bar_chart(figures["scores"].bands, title="Lead score distribution"),
        "levels": bar_chart(figures["scores"].levels, title="Engagement levels"),
        "sources": bar_chart(
            [(f"{row.utm_source or '(direct)'} / {row.utm_campaign or '-'}", row.leads) for row in figures["attribution"]],
            title="Leads by source and campaign",
        ),
        "per_day": column_chart([(f"{row.day:%d %b}", row.total) for row in figures["per_day"]],
                                title="Interactions per day"),
    }


def dashboard_csv(figures: dict, period: selectors.Period) -> HttpResponse:
    first, last = timezone.localdate(period.start), timezone.localdate(period.end) - datetime.timedelta(days=1)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{first}-{last}.csv"'
    writer = csv.writer(response)
    writer.writerow(["Period", first.isoformat(), last.isoformat()])
    writer.writerow([])
    writer.writerow(["Figure", "This period", "Previous period", "Change %"])
    for label, value, previous, change in figures["kpis"]:
        writer.writerow([label, value, previous, change])
    writer.writerow([])
    writer.writerow(["Tool", "Interactions", "Converted", "Conversion %"])
    for row in figures["overview"].by_tool:
        writer.writerow([row.label, row.interactions, row.converted, row.conversion_percent])
    writer.writerow([])
    writer.writerow(["Funnel step", "Count", "% of visitors", "% of previous step"])
    for step in figures["funnel"]:
        writer.writerow([step.label, step.count, step.percent_of_first, step.percent_of_previous])
    writer.writerow([])
    writer.writerow(["Score band", "Leads"])
    writer.writerows(figures["scores"].bands)
    writer.writerow([])
    writer.writerow(["Engagement level", "Leads"])
    writer.writerows(figures["scores"].levels)
    writer.writerow([])
    writer.writerow(["Source", "Medium", "Campaign", "Visitors", "Leads", "Conversion %", "Booked", "Won",
                     "Won value", "Spend", "Cost per lead", "Return", "ROI %"])
    for row in figures["attribution"]:
        writer.writerow([row.utm_source, row.utm_medium, row.utm_campaign, row.sessions, row.leads,
                         row.conversion_percent, row.booked, row.won, row.won_value, row.spend,
                         row.cost_per_lead, row.return_on_spend, row.roi_percent])
    writer.writerow([])
    writer.writerow(["Day", "Interactions"])
    for row in figures["per_day"]:
        writer.writerow([row.day.isoformat(), row.total])
    return response


def dashboard_view(request, *, admin_site):
    if not request.user.has_perm("interactions.view_userinteraction"):
        raise PermissionDenied
    form = PeriodForm(request.GET)
    valid = form.is_valid()
    if valid:
        data = form.cleaned_data
    else:
        # Show the errors above the default period rather than an empty page.
        default = PeriodForm({})
        default.is_valid()
        data = default.cleaned_data
    if not request.GET.get("start") and not request.GET.get("end"):
        form = PeriodForm(initial={"start": data["start"], "end": data["end"]})
    period = selectors.period_for_days(data["start"], data["end"])
    figures = dashboard_figures(period)
    if valid and request.GET.get("format") == "csv":
        return dashboard_csv(figures, period)
    context = {
        **admin_site.each_context(request),
        "title": "Dashboard",
        "form": form,
        "first_day": data["start"],
        "last_day": data["end"],
        "charts": _charts(figures),
        **figures,
    }
    return TemplateResponse(request, "admin/comprehensive/dashboard.html", context, status=200 if valid else 400)
