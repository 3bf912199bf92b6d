"""leads.prediction: the conversion model learned from outcomes beats the untuned rule
score on a synthetic history whose true mechanism is known, is refused when outcomes
are random or too few, learns nothing from after a lead's outcome, and shows on the
lead's page with the features that pushed it."""

import math
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.demo import history_catalog
from clinic.roles import CLINIC_MANAGER, FRONT_DESK, MARKETING
from interactions.models import InteractionType, UserInteraction, UserSession
from leads.models import ConversionModel, ConversionModelImmutable, ConversionModelStatus, Lead, LeadStatus
from leads.prediction import model as learning
from leads.prediction.features import lead_features
from leads.prediction.services import (
    conversion_model_active,
    conversion_model_train,
    lead_conversion_probability,
    training_examples,
)
from leads.services import lead_update_status
from leads.synthetic import Mechanism, history_generate, history_remove

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
STALE_AFTER_DAYS = 60
# About 500 leads, 470 with an outcome: a hold-out of 140 (a clinic's year has more;
# the test's minimum hold-out is lowered to match, the margin is not).
VISITORS, SEED = 1200, 7
# Outcomes that depend on nothing.
RANDOM_VISITORS, RANDOM_SEED = 800, 9
NO_EFFECT = Mechanism(intercept=-0.6, urgency_immediate=0, urgency_soon=0, entry_price=0, premium_price=0,
                      returning=0)
TEST_THRESHOLDS = dict(CONVERSION_MODEL_MIN_HOLDOUT_LEADS=80, CONVERSION_MODEL_MIN_HOLDOUT_EACH_CLASS=25,
                       CONVERSION_MODEL_MIN_AUC_MARGIN=0.02)
# Measured on this history: the model's hold-out AUC 0.688, the rule score's 0.561
# (+0.127, 95 % interval +0.020 to +0.226); the margin asserted is well below it.
ASSERTED_MARGIN = 0.05


def prices() -> dict:
    return {item.slug: item.price_min for item in history_catalog()}


@pytest.fixture(scope="module")
def _trained(django_db_setup, django_db_blocker):
    """Two histories, one after the other, each trained on once (they take seconds):
    random outcomes (trained, then removed), then the true mechanism's, kept for the
    module's tests, each of which runs in its own transaction on top of it."""
    from scoring.services import scoring_config_forget

    scoring_config_forget()
    with django_db_blocker.unblock(), override_settings(**TEST_THRESHOLDS):
        catalog_prices = prices()
        history_generate(catalog=history_catalog(), visitors=RANDOM_VISITORS, seed=RANDOM_SEED, now=NOW,
                         mechanism=NO_EFFECT)
        random_report = conversion_model_train(prices=catalog_prices, as_of=NOW, stale_after_days=STALE_AFTER_DAYS)
        random_active = conversion_model_active()
        history_remove()
        ConversionModel.objects.all().delete()
        made = history_generate(catalog=history_catalog(), visitors=VISITORS, seed=SEED, now=NOW)
        report = conversion_model_train(prices=catalog_prices, as_of=NOW, stale_after_days=STALE_AFTER_DAYS)
    yield {"random": random_report, "random_active": random_active, "made": made, "report": report}
    with django_db_blocker.unblock():
        history_remove()
        ConversionModel.objects.all().delete()


@pytest.fixture
def trained(_trained, db):
    return _trained


def staff(role: str):
    user = get_user_model().objects.create_user(role.lower().replace(" ", "_"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_the_model_beats_the_untuned_rules_on_the_synthetic_hold_out_and_is_used(trained):
    report = trained["report"]
    evaluation = report.training.evaluation
    assert evaluation.holdout_leads >= 120 and evaluation.holdout_positives >= 30
    assert evaluation.model.roc_auc - evaluation.rules.roc_auc >= ASSERTED_MARGIN
    assert evaluation.margin_interval[0] > 0
    assert report.training.decision.used and report.training.decision.reason.startswith("beats the rules by")
    active = conversion_model_active()
    assert active == report.saved and active.status == ConversionModelStatus.ACTIVE
    assert active.holdout_leads == evaluation.holdout_leads and active.train_leads == evaluation.train_leads
    assert active.metrics["model"]["roc_auc"] == evaluation.model.roc_auc
    assert active.metrics["rules"]["calibration"] and active.metrics["thresholds"]["min_auc_margin"] == 0.02
    assert "urgency=immediate" in active.feature_names and active.procedure_prices


def test_the_hold_out_is_later_than_every_lead_learned_from(trained):
    examples = training_examples(as_of=NOW, stale_after_days=STALE_AFTER_DAYS, prices=prices())
    learn, judge = learning.split_by_time(examples)
    assert max(e.created_at for e in learn) <= min(e.created_at for e in judge)
    assert len(judge) == math.ceil(len(examples) * learning.HOLDOUT_SHARE)


def test_the_model_finds_the_true_causes_not_what_the_table_rewards(trained):
    """Immediate urgency and a returning visit raise the odds, higher prices lower
    them; face analysis and a high budget, which the table rewards, weigh nearly nothing."""
    pipeline = trained["report"].training.pipeline
    names = pipeline.named_steps["encode"].feature_names_
    coef = dict(zip(names, pipeline.named_steps["classify"].coef_[0], strict=True))
    assert coef["urgency=immediate"] - coef["urgency=flexible"] > 0.4
    assert coef["visits"] + coef["days since previous visit"] > 0.2
    assert coef["price"] < -0.3
    assert abs(coef["uses of face_analysis"]) < 0.2 and abs(coef["budget=high"]) < 0.2


def test_with_random_outcomes_the_model_is_refused_and_not_used(trained):
    report = trained["random"]
    assert not report.training.decision.used
    assert not report.training.decision.reason.startswith("too few")
    assert report.saved.status == ConversionModelStatus.REFUSED and trained["random_active"] is None


@override_settings(**TEST_THRESHOLDS)
def test_with_too_few_examples_it_is_refused_saying_so_and_the_active_one_stays(trained):
    active = conversion_model_active()
    report = conversion_model_train(prices=prices(), as_of=NOW - timedelta(days=350),
                                    stale_after_days=STALE_AFTER_DAYS)
    assert not report.training.decision.used
    assert report.training.decision.reason.startswith("too few examples")
    assert report.saved.status == ConversionModelStatus.REFUSED and report.saved.reason.startswith("too few")
    assert conversion_model_active() == active


def test_a_model_that_is_used_retires_the_one_before(trained):
    before = conversion_model_active()
    with override_settings(**TEST_THRESHOLDS):
        report = conversion_model_train(prices=prices(), as_of=NOW, stale_after_days=STALE_AFTER_DAYS)
    before.refresh_from_db()
    assert report.saved.version == before.version + 1
    assert conversion_model_active() == report.saved and before.status == ConversionModelStatus.RETIRED


def test_a_trained_model_is_a_record(trained):
    record = conversion_model_active()
    record.reason = "edited"
    with pytest.raises(ConversionModelImmutable):
        record.save()


def test_features_do_not_use_interactions_after_the_outcome_moment(trained):
    """A lead lost five days after enquiring, who came back after that as an urgent
    face-analysis visitor: the model learns from the journey up to the loss only; a
    prediction now sees all of it."""
    enquired = NOW - timedelta(days=40)
    lead = Lead.objects.create(email="late@example.com", created_at=enquired, utm_source="google")
    session = UserSession.objects.create(lead=lead, created_at=enquired - timedelta(hours=1))

    def interaction(kind, at, **data):
        UserInteraction.objects.create(session=session, lead=lead, interaction_type=kind, data=data,
                                       engagement_seconds=60, created_at=at)

    interaction(InteractionType.AI_RECOMMENDATION, enquired - timedelta(minutes=10), urgency="flexible",
                procedures=["chemical-peel"], query="peel, no rush")
    interaction(InteractionType.CONTACT_FORM, enquired)
    lead_update_status(lead=lead, status=LeadStatus.LOST, by=None, at=enquired + timedelta(days=5))
    interaction(InteractionType.FACE_ANALYSIS, enquired + timedelta(days=10), urgency="immediate")

    examples = {e.lead_id: e for e in training_examples(as_of=NOW, stale_after_days=STALE_AFTER_DAYS,
                                                          prices=prices())}
    learned = examples[lead.pk].features
    assert not examples[lead.pk].converted
    assert learned["urgency"] == "flexible" and learned["uses of face_analysis"] == 0 and learned["visits"] == 1
    assert learned["engagement"] == pytest.approx(math.log1p(120))
    assert "peel, no rush" not in map(str, learned.values())

    now = lead_features(cutoffs={lead.pk: NOW}, prices=prices())[lead.pk]
    assert now["urgency"] == "immediate" and now["uses of face_analysis"] == 1 and now["visits"] == 2


def test_a_prediction_gives_the_probability_and_the_features_that_pushed_it(trained):
    lead = Lead.objects.filter(email__endswith="history.example", interactions__data__urgency="immediate").first()
    prediction = lead_conversion_probability(lead)
    assert 0 < prediction.probability < 1 and prediction.model_version == conversion_model_active().version
    assert "urgency: immediate" in [words for words, _ in prediction.up]
    assert all(push > 0 for _, push in prediction.up) and all(push < 0 for _, push in prediction.down)


@pytest.mark.parametrize("role", [CLINIC_MANAGER, FRONT_DESK, MARKETING])
def test_the_lead_page_shows_the_probability_beside_the_rule_score(trained, client, role):
    lead = Lead.objects.filter(email__endswith="history.example", interactions__data__urgency="immediate").first()
    client.force_login(staff(role))
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    prediction = lead_conversion_probability(lead)
    assert f"Conversion probability {round(prediction.probability * 100)} %" in page
    assert f"model v{prediction.model_version}" in page and "Up: " in page and "urgency: immediate" in page
    assert "as soon as possible" not in page.split("Conversion probability")[1].split("</div>")[0]


def test_without_a_model_in_use_the_lead_page_says_how_to_train_one(trained, client):
    ConversionModel.objects.filter(status=ConversionModelStatus.ACTIVE).update(status=ConversionModelStatus.RETIRED)
    lead = Lead.objects.filter(email__endswith="history.example").first()
    assert lead_conversion_probability(lead) is None
    client.force_login(staff(FRONT_DESK))
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "No conversion model in use" in page and "manage.py train_lead_model" in page


@pytest.mark.parametrize("role", [CLINIC_MANAGER, FRONT_DESK, MARKETING])
def test_every_role_reads_the_models_and_their_figures_and_none_edits_them(trained, client, role):
    client.force_login(staff(role))
    active = conversion_model_active()
    listing = client.get("/admin/leads/conversionmodel/").content.decode()
    assert f"{active.metrics['model']['roc_auc']:.3f}" in listing and "In use" in listing
    page = client.get(f"/admin/leads/conversionmodel/{active.pk}/change/").content.decode()
    assert "Precision at the top 10 %" in page and "Calibration, rule score" in page
    assert client.get("/admin/leads/conversionmodel/add/").status_code == 403
    assert client.post(f"/admin/leads/conversionmodel/{active.pk}/delete/", {"post": "yes"}).status_code == 403


@override_settings(**TEST_THRESHOLDS)
def test_the_command_prints_the_figures_beside_the_rule_score_and_the_decision(trained):
    out = StringIO()
    call_command("train_lead_model", "--as-of", "2026-06-01", "--stale-after-days", "60", "--dry-run", stdout=out)
    text = out.getvalue()
    for words in ("hold-out: the", "ROC AUC", "precision @ top 10 %", "Calibration, model",
                  "Calibration, rule score", "90–100",
                  "Dry run, nothing was saved: would be used: beats the rules by"):
        assert words in text, words
    assert ConversionModel.objects.count() == 1


@override_settings(**TEST_THRESHOLDS)
def test_the_command_saves_a_refused_model_with_its_reason(trained):
    out = StringIO()
    call_command("train_lead_model", "--as-of", "2025-06-20", stdout=out)
    assert "refused: too few examples" in out.getvalue()
    assert ConversionModel.objects.get(version=2).status == ConversionModelStatus.REFUSED


@pytest.mark.parametrize("options, message", [
    (["--as-of", "last tuesday"], "is not a date"),
    (["--as-of", "2026-02-30"], "is not a date"),
    (["--as-of", "2999-01-01"], "in the future"),
    (["--stale-after-days", "0"], "at least 1"),
])
def test_bad_options_are_refused_in_words(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("train_lead_model", *options, stdout=StringIO())


def test_precision_at_the_top_shares_ties_at_the_cut_fairly():
    labels = [True, False] * 5 + [False] * 10
    assert learning.precision_at_top(labels, [90] * 10 + [10] * 10, share=0.1) == 0.5
    assert learning.precision_at_top([True, False, False], [3, 2, 1], share=0.1) == 1.0


def test_a_predictions_pushes_and_intercept_add_up_to_its_log_odds():
    examples = [{"urgency": ("immediate" if i % 3 == 0 else "flexible"), "visits": 1 + i % 4, "price": i % 5}
                for i in range(200)]
    labels = [(e["urgency"] == "immediate") ^ (i % 7 == 0) for i, e in enumerate(examples)]
    pipeline, _ = learning.pipeline_fit(examples, labels)
    explained = learning.explain(pipeline, examples[0])
    log_odds = math.log(explained.probability / (1 - explained.probability))
    intercept = pipeline.named_steps["classify"].intercept_[0]
    assert sum(push.contribution for push in explained.pushes) + intercept == pytest.approx(log_odds)
    assert explained.pushes[0].feature == "urgency" and explained.pushes[0].value == "immediate"


def test_the_decision_needs_enough_examples_and_a_margin_beyond_chance():
    thresholds = learning.Thresholds(min_holdout_leads=200, min_holdout_each_class=30, min_auc_margin=0.02)
    figures = learning.Figures(roc_auc=0.70, precision_at_top=0.5, calibration=())
    rules = learning.Figures(roc_auc=0.60, precision_at_top=0.4, calibration=())

    def evaluation(holdout=300, positives=100, interval=(0.03, 0.17), model=figures):
        return learning.Evaluation(train_leads=700, train_positives=200, holdout_leads=holdout,
                                   holdout_positives=positives, model=model, rules=rules,
                                   auc_margin=model.roc_auc - rules.roc_auc, margin_interval=interval)

    assert learning.decide(evaluation(), thresholds).used
    assert "too few" in learning.decide(evaluation(holdout=150), thresholds).reason
    assert "too few" in learning.decide(evaluation(positives=290), thresholds).reason
    assert "could be chance" in learning.decide(evaluation(interval=(-0.01, 0.2)), thresholds).reason
    small = learning.Figures(roc_auc=0.61, precision_at_top=0.4, calibration=())
    assert "does not beat the rules" in learning.decide(evaluation(model=small), thresholds).reason


def test_features_read_in_plain_words():
    from leads.prediction.features import feature_in_words

    assert feature_in_words("urgency", "immediate") == "urgency: immediate"
    assert feature_in_words("uses of ai_recommendation", 2) == "AI recommendation: 2 times"
    assert feature_in_words("visits", 1) == "1 visit" and feature_in_words("visits", 3) == "3 visits"
    assert feature_in_words("days since previous visit", 0) == "enquired on their first visit"
    assert feature_in_words("price", math.log(300)) == "procedures looked at cost £300 on average"
    assert feature_in_words("first visit day", "Monday") == "first visit on a Monday"


def test_a_feature_reads_in_plain_words():
    from leads.prediction.features import feature_in_words

    assert feature_in_words("uses of ai_recommendation", 0) == "no AI recommendation"
    assert feature_in_words("uses of page_engagement", 0) == "no page engagement"
    assert feature_in_words("uses of cost_calculator", 2) == "Cost calculator: 2 times"
    assert feature_in_words("uses of face_analysis", 1) == "Face analysis: once"
