"""Who may see what: the contact permission (leads are people) and the API permissions
that mirror the admin's (kept apart from core/api.py: DRF imports its default permission
classes while it is still loading its views)."""

from rest_framework import permissions

# Leads are people: only staff with this permission see who a lead, session or
# interaction belongs to, or anything a patient typed.
CONTACT_PERMISSION = "leads.view_contact_details"


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff only, with the same model permissions as in the admin, reading included
    (marketing may read leads, not change them; front desk may not change rules)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff and user.is_active):
            return False
        return super().has_permission(request, view)
