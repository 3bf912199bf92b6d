"""The public home page: the free tools and the treatment catalog."""

from django.template.response import TemplateResponse

from calculators.models import Procedure, ProcedureCategory


def home(request):
    procedures = Procedure.objects.filter(is_active=True)
    by_category = [
        (label, [p for p in procedures if p.category == value]) for value, label in ProcedureCategory.choices
    ]
    return TemplateResponse(request, "home.html", {"by_category": by_category})
