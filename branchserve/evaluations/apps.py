from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "branchserve.evaluations"
    label = "evaluations"
    verbose_name = _("Service quality monitoring")

    def ready(self) -> None:
        from branchserve.evaluations import (
            demo,  # noqa: F401  registers the demo generator
            permissions,  # noqa: F401  registers evaluations.*
        )
