"""The cohort page (/admin/comprehensive/cohorts/): visitors grouped by the week they
first came or by their source, and the share of each group that became leads, booked
and won, week by week since the first visit, as a heat-map table and CSV."""

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from core import csv
from core.forms import DayInput
from core.db import reading_for_analytics
from leads import cohorts
from leads.selectors import period_for_days

DEFAULT_WEEKS = 12
MAX_DAYS = 366
# "...the share of the group that had ___ by the end of that week."
HAD = {"lead": "become a lead", "booked": "booked", "won": "won"}


class CohortForm(forms.Form):
    start = forms.DateField(required=False, widget=DayInput(),
                            help_text="First visits from this day")
    end = forms.DateField(required=False, widget=DayInput(),
                          help_text="to this day")
    by = forms.ChoiceField(choices=[(cohorts.BY_WEEK, "First-visit week"), (cohorts.BY_SOURCE, "Source")],
                           required=False, label="Group by")
    outcome = forms.ChoiceField(choices=list(cohorts.OUTCOMES.items()), required=False, label="Show")
    weeks = forms.IntegerField(min_value=1, max_value=52, required=False, label="Weeks followed")

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - datetime.timedelta(weeks=DEFAULT_WEEKS) + datetime.timedelta(days=1)
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        data.update(start=start, end=end, by=data.get("by") or cohorts.BY_WEEK,
                    outcome=data.get("outcome") or "lead", weeks=data.get("weeks") or DEFAULT_WEEKS)
        return data


def _cells(table: cohorts.CohortTable, outcome: str) -> list[tuple[cohorts.Cohort, list]]:
    """Each cohort with its cells: (percent, count, the heat-map's shade from 0 to 1,
    1 for the table's highest share)."""
    percents = [cohort.percents(outcome) for cohort in table.cohorts]
    highest = max((p for row in percents for p in row if p is not None), default=0) or 1
    return [
        (cohort, [(percent, count, None if percent is None else percent / highest)
                  for percent, count in zip(row, cohort.reached[outcome])])
        for cohort, row in zip(table.cohorts, percents)
    ]


def cohorts_csv(table: cohorts.CohortTable, *, first: datetime.date, last: datetime.date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cohorts-{table.by}-{first}-{last}.csv"'
    writer = csv.writer(response)
    weeks = [f"Week {week}" for week in range(table.weeks)]
    writer.writerow(["Cohort", "Visitors", "Outcome", *weeks, *(f"{w} %" for w in weeks)])
    for cohort in table.cohorts:
        for outcome, label in cohorts.OUTCOMES.items():
            writer.writerow([cohort.label, cohort.sessions, label, *cohort.reached[outcome], *cohort.percents(outcome)])
    return response


def _csv_query(data: dict) -> str:
    return "&".join(f"{name}={data[name]}" for name in ("start", "end", "by", "weeks")) + "&format=csv"


def cohorts_view(request, *, admin_site):
    if not request.user.has_perm("interactions.view_userinteraction"):
        raise PermissionDenied
    form = CohortForm(request.GET)
    valid = form.is_valid()
    if valid:
        data = form.cleaned_data
    else:
        # Show the errors above the default cohorts rather than an empty page.
        default = CohortForm({})
        default.is_valid()
        data = default.cleaned_data
    if valid:
        form = CohortForm(initial=data)  # the days and choices in effect, defaults filled in
    period = period_for_days(data["start"], data["end"])
    with reading_for_analytics():
        table = cohorts.cohort_table(start=period.start, end=period.end, by=data["by"], weeks=data["weeks"])
    if valid and request.GET.get("format") == "csv":
        return cohorts_csv(table, first=data["start"], last=data["end"])
    context = {
        **admin_site.each_context(request),
        "title": "Cohorts",
        "form": form,
        "data": data,
        "table": table,
        "had": HAD[data["outcome"]],
        "rows": _cells(table, data["outcome"]),
        "week_numbers": range(table.weeks),
        "csv_query": _csv_query(data),
    }
    return TemplateResponse(request, "admin/comprehensive/cohorts.html", context, status=200 if valid else 400)
