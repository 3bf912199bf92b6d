"""A synthetic history (leads.synthetic) as a module's fixture: written once for the
module (it takes seconds), each test running in its own transaction on top of it,
removed when the module ends with what was learnt from it."""

import pytest

from clinic.demo import history_catalog
from leads.models import ConversionModel, RuleCalibration
from leads.synthetic import history_generate, history_remove


def module_history(**generate):
    """The fixture for `history_generate(catalog=..., **generate)`; its value is what
    history_generate returned. Name it `_history_once` and ask for it through `history`."""

    @pytest.fixture(scope="module")
    def _history_once(django_db_setup, django_db_blocker):
        from scoring.services import scoring_config_forget

        scoring_config_forget()
        with django_db_blocker.unblock():
            made = history_generate(catalog=history_catalog(), **generate)
        yield made
        with django_db_blocker.unblock():
            RuleCalibration.objects.all().delete()
            ConversionModel.objects.all().delete()
            history_remove()

    return _history_once


@pytest.fixture
def history(_history_once, db):
    return _history_once
