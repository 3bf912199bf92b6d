from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _scoring_config_changed(sender, **kwargs) -> None:
    from scoring.services import scoring_config_changed

    scoring_config_changed()


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
