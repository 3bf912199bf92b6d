"""The public home page (the free tools, the treatment catalog, and for a visitor who has
been here before their own treatments and last result), and the 404 answer."""

from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.views import defaults

from calculators import personal
from calculators.models import Procedure, ProcedureCategory
from interactions.selectors import visitor_history


def home(request):
    procedures = Procedure.objects.filter(is_active=True)
    by_category = [
        (label, [p for p in procedures if p.category == value]) for value, label in ProcedureCategory.choices
    ]
    # A visitor who has been here before: their treatments first, and their last result.
    session = getattr(request, "user_session", None)
    history = visitor_history(session)
    return TemplateResponse(request, "home.html", {
        "by_category": by_category,
        "looked_at": personal.treatments_looked_at(history),
        "greeting": personal.greeting(session, history),
    })


def page_not_found(request, exception):
    """Under /api/ (an id that is not a number, a path that is no endpoint) the API's
    error body, as its schema promises; the site's friendly page everywhere else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
    return defaults.page_not_found(request, exception)
