from django.urls import path

from branchserve.evaluations import manager_views, views

app_name = "evaluations"
urlpatterns = [
    path("", views.home, name="home"),
    path("pad/", views.pad, name="pad"),
    path("me/", views.me, name="me"),
]
urlpatterns += manager_views.manager_urlpatterns
