from django.urls import path

from branchserve.devices import views

app_name = "devices"
urlpatterns = [
    path("", views.device_list, name="list"),
    path("pair/", views.pair, name="pair"),
    path("new/", views.device_new, name="new"),
    path("<int:device_id>/", views.device_detail, name="detail"),
    path("<int:device_id>/pairing-code/", views.device_pairing_code, name="pairing_code"),
    path("<int:device_id>/revoke/", views.device_revoke, name="revoke"),
]
