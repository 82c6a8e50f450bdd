from django.urls import path

from branchserve.planning import views

app_name = "planning"
urlpatterns = [
    path("", views.page, name="page"),
    path("strategies/", views.strategies, name="strategies"),
]
