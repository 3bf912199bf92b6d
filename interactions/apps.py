from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = "Visitor interactions"

    def ready(self) -> None:
        # Connects the receiver that removes a deleted photo's file after the commit.
        from interactions import photos  # noqa: F401
