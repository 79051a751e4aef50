from django.urls import path

from improvement import update_views as views

app_name = "updates"

urlpatterns = [
    path("", views.board, name="board"),
    path("<int:pk>/", views.update_detail, name="update"),
]
