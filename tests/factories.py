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
