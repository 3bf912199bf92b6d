"""A calibration on a history where nothing the rules see matters (outcomes at
random) finds nothing better than the current points, and is refused."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from leads.calibration import calibration_accept, calibration_run
from leads.models import RuleCalibration
from leads.synthetic import Mechanism
from tests.leads.synthetic_fixtures import history, module_history  # noqa: F401 (fixtures)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Every effect 0: a lead books with the same chance (one in two) whatever it did.
NOTHING_MATTERS = Mechanism(intercept=0.0, urgency_immediate=0.0, urgency_soon=0.0, entry_price=0.0,
                            premium_price=0.0, returning=0.0)


_history_once = module_history(visitors=2000, seed=11, now=NOW, mechanism=NOTHING_MATTERS)


def test_a_proposal_that_does_not_rank_better_is_refused_and_cannot_be_accepted(history):
    result = calibration_run(as_of=NOW, stale_after_days=60)
    assert result.held_out >= 300
    assert result.status == RuleCalibration.Status.REFUSED
    # Measured (seed 11): ROC AUC 0.488 proposed against 0.503 now: nothing to learn, nothing proposed.
    assert result.reason.startswith("The proposed points do not rank the held-out leads better")
    with pytest.raises(ValidationError, match="refused"):
        calibration_accept(calibration_id=result.pk, by=None)
