from django.urls import path

from branchserve.rectification import views

app_name = "rectification"
urlpatterns = [
    path("", views.task_list_page, name="list"),
    path("<str:public_id>/", views.detail_page, name="detail"),
    path("<str:public_id>/act/<slug:action>/", views.act, name="act"),
    path("<str:public_id>/evidence/<int:evidence_id>/", views.evidence_file, name="evidence_file"),
]
