from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _experiments_changed(sender, **kwargs) -> None:
    from interactions.experiments import experiments_changed

    experiments_changed()


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = "Visitor interactions"

    def ready(self) -> None:
        # Connects the receiver that removes a deleted photo's file after the commit.
        from interactions import photos  # noqa: F401
        from interactions.models import Experiment, ExperimentVariant

        # Running experiments are cached per process (interactions.experiments): any
        # save or delete tells every process to reload them.
        for model in (Experiment, ExperimentVariant):
            post_save.connect(_experiments_changed, sender=model, dispatch_uid=f"{model.__name__}-saved")
            post_delete.connect(_experiments_changed, sender=model, dispatch_uid=f"{model.__name__}-deleted")
