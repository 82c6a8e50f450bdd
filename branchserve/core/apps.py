from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "branchserve.core"
    label = "core"
    verbose_name = "核心"
