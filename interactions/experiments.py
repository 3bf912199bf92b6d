"""A/B tests on the contact offer and form: staff define an experiment in the admin
(interactions.models.Experiment) with its variants; each visitor is given one variant
for good, or held out (never offered the form, so the offer's own effect is measured).

- **Assignment** is a hash of the experiment and the visitor's public id: the same
  visitor gets the same variant in every process and on every page, with no query, and
  the shares follow the variants' weights. Once the visitor is *exposed*, their variant
  is also pinned on their session, so a later change of weights never moves them.
- **Exposure** is the moment the variants first differ for the visitor: the contact
  form shown (a form experiment), or their score reaching the offer's threshold (the
  lowest of the variants' in a threshold experiment). It is recorded as an interaction
  of their journey (`experiment_exposure`), once per experiment.
- **Conversion** is the exposed visitor becoming a lead, recorded as an
  `experiment_conversion` interaction.
- The admin compares each variant's conversion with the first one's (the control):
  interactions.selectors.experiment_results, core.stats."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from core.shared_copy import SharedCopy
from interactions.models import Experiment, ExperimentKind, ExperimentStatus, ExperimentVariant, UserSession

HOLDOUT = "holdout"
VERSION_KEY = "interactions:experiments-version"


@dataclass(frozen=True)
class Arm:
    key: str
    weight: int
    form_fields: str = ""
    prompt_text: str = ""
    threshold: int | None = None


@dataclass(frozen=True)
class RunningExperiment:
    id: int
    name: str
    kind: str
    holdout_percent: int
    arms: tuple[Arm, ...]

    def arm_for(self, visitor: str) -> Arm | None:
        """The variant this visitor gets, None when held out: a fixed point in [0, 1)
        for the visitor in this experiment, the holdout's share first, then the
        variants' shares by weight."""
        point = _point(self.id, visitor)
        holdout = self.holdout_percent / 100
        if point < holdout:
            return None
        total = sum(arm.weight for arm in self.arms)
        position = (point - holdout) / (1 - holdout) * total
        for arm in self.arms:
            if position < arm.weight:
                return arm
            position -= arm.weight
        return self.arms[-1]

    def arm_named(self, key: str) -> Arm | None:
        return next((arm for arm in self.arms if arm.key == key), None)


def _point(experiment_id: int, visitor: str) -> float:
    digest = hashlib.blake2b(f"{experiment_id}:{visitor}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _load() -> dict[str, RunningExperiment]:
    # Variants of no weight too: a visitor pinned to one keeps it (arm_for gives it to no one new).
    variants = Prefetch("variants", queryset=ExperimentVariant.objects.order_by("pk"))
    running = Experiment.objects.filter(status=ExperimentStatus.RUNNING).prefetch_related(variants)
    return {
        experiment.kind: RunningExperiment(
            id=experiment.pk, name=experiment.name, kind=experiment.kind,
            holdout_percent=experiment.holdout_percent if experiment.kind != ExperimentKind.CONTACT_FORM else 0,
            arms=tuple(Arm(v.key, v.weight, v.form_fields, v.prompt_text, v.threshold) for v in experiment.variants.all()),
        )
        for experiment in running
        if experiment.variants.all()
    }


_running: SharedCopy[dict[str, RunningExperiment]] = SharedCopy(
    VERSION_KEY, _load, check_setting="SCORING_CONFIG_CHECK_SECONDS"
)


def running_experiment(kind: str) -> RunningExperiment | None:
    """The experiment of this kind running now (at most one), as this process knows it."""
    return _running.get().get(kind)


def running_by_id(experiment_id: int) -> RunningExperiment | None:
    return next((e for e in _running.get().values() if e.id == experiment_id), None)


def experiments_changed() -> None:
    """An experiment or variant was saved: every process reloads the running ones."""
    _running.changed()


def experiments_forget() -> None:
    _running.forget()


@dataclass(frozen=True)
class Placement:
    """A visitor's place in a running experiment: their variant (None: held out) and
    whether their exposure is still to be recorded."""

    experiment: RunningExperiment
    arm: Arm | None
    exposed: bool

    @property
    def key(self) -> str:
        return self.arm.key if self.arm is not None else HOLDOUT


def placement(session: UserSession, kind: str) -> Placement | None:
    """Where this visitor stands in the running experiment of this kind, if any: the
    variant pinned at their exposure, else the one their hash gives."""
    experiment = running_experiment(kind)
    if experiment is None:
        return None
    pinned = (session.experiments or {}).get(str(experiment.id))
    if pinned is not None:
        arm = experiment.arm_named(pinned) if pinned != HOLDOUT else None
        if arm is not None or pinned == HOLDOUT:
            return Placement(experiment, arm, exposed=True)
    return Placement(experiment, experiment.arm_for(str(session.public_id)), exposed=False)


def exposure_data(placement: Placement) -> dict:
    """The exposure interaction's data: the experiment and the variant shown."""
    return {"experiment": placement.experiment.id, "name": placement.experiment.name, "variant": placement.key}


def exposed_experiments(session: UserSession) -> Iterable[tuple[int, str]]:
    """(experiment id, variant key) of every experiment this visitor was exposed to."""
    return ((int(experiment), key) for experiment, key in (session.experiments or {}).items())


def prompt_wording(session: UserSession | None) -> str:
    """The contact offer's words for this visitor in a running wording experiment
    (their variant's), or "" for the site's own."""
    if session is None:
        return ""
    place = placement(session, ExperimentKind.PROMPT_TEXT)
    return place.arm.prompt_text if place is not None and place.arm is not None else ""


# What each kind's variants must say.
VARIANT_FIELD = {
    ExperimentKind.CONTACT_FORM: "form_fields",
    ExperimentKind.PROMPT_TEXT: "prompt_text",
    ExperimentKind.PROMPT_THRESHOLD: "threshold",
}


def experiment_start(experiment: Experiment) -> None:
    """Start a draft experiment: each variant says what its visitors get, there are two
    arms at least (a holdout counts as one), and no other experiment of the kind runs."""
    if experiment.status != ExperimentStatus.DRAFT:
        raise ValidationError("Only a draft experiment can be started; a stopped one stays stopped.")
    variants = list(experiment.variants.filter(weight__gt=0))
    field = VARIANT_FIELD[experiment.kind]
    unsaid = [v.key for v in variants if getattr(v, field) in ("", None)]
    if unsaid:
        label = ExperimentVariant._meta.get_field(field).verbose_name
        raise ValidationError(f"Say the {label} of variant {', '.join(unsaid)}.")
    holdout = experiment.holdout_percent and experiment.kind != ExperimentKind.CONTACT_FORM
    if len(variants) + bool(holdout) < 2:
        raise ValidationError("An experiment needs two variants with a weight, or one and a holdout.")
    experiment.status, experiment.started_at = ExperimentStatus.RUNNING, timezone.now()
    try:
        with transaction.atomic():
            experiment.save(update_fields=["status", "started_at"])
    except IntegrityError:
        experiment.status, experiment.started_at = ExperimentStatus.DRAFT, None
        raise ValidationError(f"Another {experiment.get_kind_display().lower()} experiment is running: stop it first.")


def experiment_stop(experiment: Experiment) -> None:
    """Stop a running experiment: visitors get the site's own offer and form again;
    its figures stay as they were."""
    if experiment.status != ExperimentStatus.RUNNING:
        raise ValidationError("Only a running experiment can be stopped.")
    experiment.status, experiment.stopped_at = ExperimentStatus.STOPPED, timezone.now()
    experiment.save(update_fields=["status", "stopped_at"])
