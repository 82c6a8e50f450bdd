from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueueingConfig(AppConfig):
    name = "branchserve.queueing"
    label = "queueing"
    verbose_name = _("Queue management")

    def ready(self) -> None:
        from branchserve.queueing import (
            demo,  # noqa: F401  registers the demo generator
            permissions,  # noqa: F401  registers queueing.*
        )
