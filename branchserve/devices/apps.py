from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "branchserve.devices"
    label = "devices"
    verbose_name = _("Devices")

    def ready(self) -> None:
        from branchserve.devices import permissions  # noqa: F401  registers devices.serve_counter
