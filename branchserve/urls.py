from django.contrib import admin
from django.urls import include, path

from branchserve.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("branchserve.front.urls")),
    path("devices/", include("branchserve.devices.urls")),
    path("audit/", include("branchserve.audit.urls")),
    path("org/", include("branchserve.org.urls")),
    path("queue/", include("branchserve.queueing.urls")),
    path("rectification/", include("branchserve.rectification.urls")),
    path("evaluations/", include("branchserve.evaluations.urls")),
    path("planning/", include("branchserve.planning.urls")),
]

admin.site.site_header = admin.site.site_title = "branchserve"
