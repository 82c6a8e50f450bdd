from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "branchserve.org"
    label = "org"
    verbose_name = _("Organisation and staff")

    def ready(self) -> None:
        from branchserve.org import demo  # noqa: F401  registers the demo generator
