from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "branchserve.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from branchserve.audit import signals  # noqa: F401
