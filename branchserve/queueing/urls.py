from django.urls import path

from branchserve.queueing import views

app_name = "queueing"
urlpatterns = [
    path("kiosk/", views.kiosk, name="kiosk"),
    path("counter/", views.counter, name="counter"),
    path("display/", views.display, name="display"),
    path("lobby/", views.lobby, name="lobby"),
    path("board/", views.board_home, name="board"),
    path("board/<str:unit_code>/", views.board, name="board_unit"),
    path("board/<str:outlet_code>/summary/", views.summary, name="summary"),
]
