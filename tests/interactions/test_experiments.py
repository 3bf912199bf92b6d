"""A/B tests of the contact offer and form (interactions/experiments.py): sticky,
balanced assignment; exposure and conversion recorded as interactions; each variant
applied; the figures and the refusal to call a winner early."""

import uuid
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core import stats
from interactions import experiments
from interactions.models import (
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    ExperimentVariant,
    InteractionType,
    UserInteraction,
    UserSession,
)
from interactions.selectors import experiment_results
from interactions.tracker import track_user_interaction
from tests.factories import scoring_settings_change

pytestmark = pytest.mark.django_db
EXPOSURE, CONVERSION = InteractionType.EXPERIMENT_EXPOSURE, InteractionType.EXPERIMENT_CONVERSION
EVENT = {"event": "page_engagement", "page_url": "/treatments/", "engagement_seconds": 200}  # 15 points
WEDDING = {"query": "I want botox for my forehead lines before my wedding next month"}  # 85 points


def running(kind, *variants, holdout=0, **fields):
    experiment = Experiment.objects.create(name=f"{kind} test", kind=kind, holdout_percent=holdout, **fields)
    for key, values in variants:
        ExperimentVariant.objects.create(experiment=experiment, key=key, **values)
    experiments.experiment_start(experiment)
    return experiment


def visitor_in(experiment, key, client):
    """A browser whose visitor the hash puts in this variant (or the holdout)."""
    for _ in range(500):
        client.cookies.clear()
        client.get("/")
        session = UserSession.objects.order_by("-pk").first()
        placement = experiments.placement(session, experiment.kind)
        if placement.key == key:
            client.token = client.cookies["csrftoken"].value
            return session
    raise AssertionError(f"no visitor landed in {key}")


def exposures(session) -> list[dict]:
    return [i.data for i in UserInteraction.objects.filter(session=session, interaction_type=EXPOSURE)]


def test_assignment_is_sticky_and_follows_the_weights_and_the_holdout():
    arms = (experiments.Arm("a", 1), experiments.Arm("b", 3))
    experiment = experiments.RunningExperiment(id=7, name="t", kind=ExperimentKind.PROMPT_TEXT, holdout_percent=20,
                                               arms=arms)
    visitors = [str(uuid.uuid4()) for _ in range(20_000)]
    shares = Counter(getattr(experiment.arm_for(v), "key", "holdout") for v in visitors)

    assert shares["holdout"] / 20_000 == pytest.approx(0.20, abs=0.015)
    assert shares["a"] / 20_000 == pytest.approx(0.20, abs=0.015)
    assert shares["b"] / 20_000 == pytest.approx(0.60, abs=0.015)
    assert all(experiment.arm_for(v) == experiment.arm_for(v) for v in visitors[:500])
    # Another experiment shuffles visitors anew: its buckets are not this one's.
    other = experiments.RunningExperiment(id=8, name="u", kind=ExperimentKind.PROMPT_TEXT, holdout_percent=20,
                                          arms=arms)
    same = sum(getattr(experiment.arm_for(v), "key", "h") == getattr(other.arm_for(v), "key", "h")
               for v in visitors[:2000])
    assert same / 2000 < 0.6


def test_a_threshold_experiment_offers_by_the_variants_threshold_and_holds_some_out(client):
    scoring_settings_change(contact_prompt_threshold=60)
    experiment = running(ExperimentKind.PROMPT_THRESHOLD, ("low", {"threshold": 10}), ("high", {"threshold": 90}),
                         holdout=20)
    shown = {}
    for key in ("low", "high", "holdout"):
        session = visitor_in(experiment, key, client)
        answer = client.post("/api/v1/track/", EVENT, content_type="application/json", HTTP_X_CSRFTOKEN=client.token)
        shown[key] = answer.json()["show_contact_prompt"]
        # 15 points reach the lowest variant's threshold: every one of them is exposed, once.
        client.post("/api/v1/track/", EVENT, content_type="application/json", HTTP_X_CSRFTOKEN=client.token)
        assert exposures(session) == [{"experiment": experiment.pk, "name": experiment.name, "variant": key}]
        session.refresh_from_db()
        assert session.experiments == {str(experiment.pk): key}

    assert shown == {"low": True, "high": False, "holdout": False}


def test_below_every_variants_threshold_a_visitor_is_not_exposed(client):
    experiment = running(ExperimentKind.PROMPT_THRESHOLD, ("a", {"threshold": 50}), ("b", {"threshold": 70}))
    session = visitor_in(experiment, "a", client)
    client.post("/api/v1/track/", EVENT, content_type="application/json", HTTP_X_CSRFTOKEN=client.token)
    assert exposures(session) == []


def test_a_pinned_variant_survives_a_change_of_weights(client):
    experiment = running(ExperimentKind.PROMPT_THRESHOLD, ("a", {"threshold": 10}), ("b", {"threshold": 10}))
    session = visitor_in(experiment, "a", client)
    client.post("/api/v1/track/", EVENT, content_type="application/json", HTTP_X_CSRFTOKEN=client.token)
    ExperimentVariant.objects.filter(experiment=experiment, key="a").update(weight=0)
    experiments.experiments_changed()
    session.refresh_from_db()
    assert experiments.placement(session, experiment.kind).key == "a"


def test_an_exposed_visitor_who_leaves_their_details_is_a_conversion_of_their_variant(client, contact):
    experiment = running(ExperimentKind.PROMPT_TEXT, ("a", {"prompt_text": "Talk to a nurse today?"}),
                         ("b", {"prompt_text": "Get your personal plan?"}))
    session = visitor_in(experiment, "b", client)
    result = client.post("/enhanced-ai/", WEDDING).url
    page = client.get(result).content.decode()
    assert "Get your personal plan?" in page
    assert exposures(session) == [{"experiment": experiment.pk, "name": experiment.name, "variant": "b"}]

    client.post(result, contact)

    conversion = UserInteraction.objects.get(interaction_type=CONVERSION)
    assert conversion.data["variant"] == "b" and conversion.lead is not None
    figures = experiment_results(experiment)
    assert [(v.key, v.exposures, v.conversions) for v in figures.variants] == [("a", 0, 0), ("b", 1, 1)]


def test_the_short_contact_form_variant_asks_for_less(client):
    experiment = running(ExperimentKind.CONTACT_FORM, ("full", {"form_fields": "full"}),
                         ("short", {"form_fields": "short"}))
    for key, asks in (("short", False), ("full", True)):
        session = visitor_in(experiment, key, client)
        page = client.get("/contact/").content.decode()
        assert ('name="last_name"' in page) is asks and ('name="message"' in page) is asks
        assert 'name="first_name"' in page
        assert exposures(session)[0]["variant"] == key


def test_a_stopped_experiment_changes_nothing_more(client):
    experiment = running(ExperimentKind.PROMPT_THRESHOLD, ("a", {"threshold": 10}), ("b", {"threshold": 90}))
    experiments.experiment_stop(experiment)
    session = visitor_in_any(client)
    client.post("/api/v1/track/", EVENT, content_type="application/json", HTTP_X_CSRFTOKEN=client.token)
    assert exposures(session) == []


def visitor_in_any(client):
    client.get("/")
    client.token = client.cookies["csrftoken"].value
    return UserSession.objects.order_by("-pk").first()


def test_starting_checks_the_variants_and_one_running_experiment_per_kind():
    draft = Experiment.objects.create(name="Wording", kind=ExperimentKind.PROMPT_TEXT)
    ExperimentVariant.objects.create(experiment=draft, key="a", prompt_text="Hello?")
    ExperimentVariant.objects.create(experiment=draft, key="b")
    with pytest.raises(ValidationError, match="variant b"):
        experiments.experiment_start(draft)
    ExperimentVariant.objects.filter(key="b").update(prompt_text="Hi?")
    experiments.experiment_start(draft)

    second = Experiment.objects.create(name="Wording 2", kind=ExperimentKind.PROMPT_TEXT, holdout_percent=10)
    ExperimentVariant.objects.create(experiment=second, key="a", prompt_text="Hey?")
    with pytest.raises(ValidationError, match="is running"):
        experiments.experiment_start(second)
    assert Experiment.objects.get(pk=second.pk).status == ExperimentStatus.DRAFT


def record(experiment, key, *, exposed, converted):
    """Visitors of a variant, some of whom became leads, as the tracker records them."""
    for number in range(exposed):
        session = UserSession.objects.create()
        data = {"experiment": experiment.pk, "name": experiment.name, "variant": key}
        track_user_interaction(session, EXPOSURE, data)
        if number < converted:
            track_user_interaction(session, CONVERSION, data)


def test_no_winner_before_the_minimum_sample_then_the_figures_are_the_textbooks():
    experiment = Experiment.objects.create(name="Form", kind=ExperimentKind.CONTACT_FORM, baseline_percent=20,
                                           smallest_lift_percent=25)
    for key in ("full", "short"):
        ExperimentVariant.objects.create(experiment=experiment, key=key, form_fields=key)
    minimum = stats.sample_size_per_group(0.20, 0.45)
    record(experiment, "full", exposed=minimum - 1, converted=8)
    record(experiment, "short", exposed=minimum, converted=minimum - 5)

    early = experiment_results(experiment)
    assert early.minimum_per_variant == minimum
    assert early.winner is None and "Too early to call" in early.verdict and "1 to go" in early.verdict

    record(experiment, "full", exposed=1, converted=0)
    figures = experiment_results(experiment)
    full, short = figures.variants
    assert (full.exposures, full.conversions, short.exposures, short.conversions) == (
        minimum, 8, minimum, minimum - 5)
    assert short.against_control == stats.compare(minimum - 5, minimum, 8, minimum)
    assert figures.winner == "short" and figures.verdict.startswith("short converts better than full")


def test_staff_start_stop_and_read_an_experiment_in_the_admin(client, db):
    from django.contrib.auth.models import Group

    marketing = get_user_model().objects.create_user("mia", password="pw-12345-x", is_staff=True)
    marketing.groups.add(Group.objects.get(name="Marketing"))
    client.force_login(marketing)
    response = client.post("/admin/interactions/experiment/add/", {
        "name": "Offer threshold", "kind": "prompt_threshold", "holdout_percent": "10",
        "baseline_percent": "10", "smallest_lift_percent": "5",
        "variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "0", "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-key": "a", "variants-0-weight": "1", "variants-0-threshold": "50",
        "variants-1-key": "b", "variants-1-weight": "1", "variants-1-threshold": "70",
    })
    assert response.status_code == 302
    experiment = Experiment.objects.get()
    client.post("/admin/interactions/experiment/", {"action": "start", "_selected_action": [experiment.pk]})
    experiment.refresh_from_db()
    assert experiment.status == ExperimentStatus.RUNNING

    page = client.get(f"/admin/interactions/experiment/{experiment.pk}/change/").content.decode()
    assert 'id="experiment-results"' in page and "Too early to call" in page and "holdout" in page
    client.post("/admin/interactions/experiment/", {"action": "stop", "_selected_action": [experiment.pk]})
    assert Experiment.objects.get().status == ExperimentStatus.STOPPED
