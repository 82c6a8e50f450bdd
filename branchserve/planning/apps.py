from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "branchserve.planning"
    label = "planning"
    verbose_name = _("Queue strategy lab")

    def ready(self) -> None:
        from branchserve.planning import permissions  # noqa: F401  registers planning.view
