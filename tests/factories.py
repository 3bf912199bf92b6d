"""Factories for rows the tests need; defaults are a plausible anonymous visitor."""

import factory

from interactions.models import UserSession
from interactions.services import session_start


class UserSessionFactory(factory.django.DjangoModelFactory):
    """A visitor as the middleware would record them."""

    class Meta:
        model = UserSession

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        utm = {name: kwargs.pop(name) for name in list(kwargs) if name.startswith("utm_")}
        session = session_start(
            landing_page=kwargs.pop("landing_page", "/"),
            referrer=kwargs.pop("referrer", ""),
            utm=utm,
            user_agent=kwargs.pop("user_agent", "Mozilla/5.0 (test)"),
            ip=kwargs.pop("ip", "203.0.113.7"),
        )
        if kwargs:
            for name, value in kwargs.items():
                setattr(session, name, value)
            session.save(update_fields=list(kwargs))
        return session


def scoring_settings_change(**fields):
    """Change the clinic's scoring settings as the admin does (a save, which tells every
    process's cached copy: scoring.services.scoring_config)."""
    from scoring.models import ScoringSettings

    settings_row, _ = ScoringSettings.objects.get_or_create(pk=1)
    for name, value in fields.items():
        setattr(settings_row, name, value)
    settings_row.save()
    return settings_row


def scoring_rule_change(name, **fields):
    """Change a scoring rule as the admin does (see scoring_settings_change)."""
    from scoring.models import LeadScoringRule

    rule = LeadScoringRule.objects.get(name=name)
    for field_name, value in fields.items():
        setattr(rule, field_name, value)
    rule.save()
    return rule
