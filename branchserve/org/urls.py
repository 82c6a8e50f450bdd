from django.urls import path

from branchserve.org import views

app_name = "org"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("staff/<str:employee_no>/", views.staff_detail, name="staff"),
]
