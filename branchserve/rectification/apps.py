from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The navigation's summary of this section (front/navigation.py repeats the same msgid; this
# copy puts its translation in this app's catalogue).
SECTION_SUMMARY = _(
    "Follow-ups and rectifications from every source: owner, working-day deadline, "
    "evidence and independent verification."
)


class RectificationConfig(AppConfig):
    name = "branchserve.rectification"
    label = "rectification"
    verbose_name = _("Rectification")

    def ready(self) -> None:
        from branchserve.rectification import permissions  # noqa: F401  registers rectification.*
