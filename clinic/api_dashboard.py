"""GET /api/v1/dashboard/: the dashboard's figures as JSON, from the same selectors."""

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.dashboard import DEFAULT_DAYS, MAX_DAYS, PeriodForm, dashboard_figures
from interactions.models import UserInteraction
from leads import selectors


def _json(figures: dict, period: selectors.Period) -> dict:
    overview = figures["overview"]
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "kpis": [{"figure": label, "value": value, "previous": previous, "change_percent": change}
                 for label, value, previous, change in figures["kpis"]],
        "tools": [{**asdict(row), "conversion_percent": row.conversion_percent} for row in overview.by_tool],
        "funnel": [asdict(step) for step in figures["funnel"]],
        "score_bands": dict(figures["scores"].bands),
        "engagement_levels": dict(figures["scores"].levels),
        "average_score": figures["scores"].average,
        "attribution": [
            {**asdict(row), "conversion_percent": row.conversion_percent, "cost_per_lead": row.cost_per_lead,
             "return_on_spend": row.return_on_spend, "roi_percent": row.roi_percent}
            for row in figures["attribution"]
        ],
        "interactions_per_day": [{"day": row.day.isoformat(), "total": row.total, "by_type": row.by_type}
                                 for row in figures["per_day"]],
    }


class DashboardView(APIView):
    # Reading the dashboard needs what the admin's dashboard needs: view_userinteraction
    # (checked by the default StaffModelPermissions against this queryset).
    queryset = UserInteraction.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description=(
                f"First day (default: {DEFAULT_DAYS} days before the end). Not after `end`; "
                f"at most {MAX_DAYS} days in all, or 400.")),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (default: today)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        # The page's form reads an empty date as "the default"; an API client that sends
        # `?start=` has a bug worth telling it about.
        blank = [name for name in ("start", "end") if request.query_params.get(name, None) == ""]
        if blank:
            raise ValidationError({name: ["Give a date (YYYY-MM-DD), or leave this out."] for name in blank})
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
        period = selectors.period_for_days(form.cleaned_data["start"], form.cleaned_data["end"])
        return Response(_json(dashboard_figures(period), period))
