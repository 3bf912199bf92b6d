from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _scoring_config_changed(sender, **kwargs) -> None:
    from django.db import transaction

    from scoring.services import scoring_config_changed
    from scoring.versions import rule_version_record

    scoring_config_changed()
    # Once the change commits: rules saved together (the admin's list) make one version.
    transaction.on_commit(lambda: rule_version_record(note="Rules or settings changed"))


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Lead scoring"

    def ready(self) -> None:
        from scoring.models import LeadScoringRule, ScoringSettings

        # Rules and settings are cached per process (scoring.services.scoring_config):
        # any save or delete tells every process to reload them.
        for model in (LeadScoringRule, ScoringSettings):
            post_save.connect(_scoring_config_changed, sender=model, dispatch_uid=f"{model.__name__}-saved")
            post_delete.connect(_scoring_config_changed, sender=model, dispatch_uid=f"{model.__name__}-deleted")
