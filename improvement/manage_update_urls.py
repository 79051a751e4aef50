from django.urls import path

from improvement import update_views as views

app_name = "updates_manage"

urlpatterns = [
    path("", views.manage_updates, name="list"),
    path("new/", views.edit_update, name="new"),
    path("<int:pk>/", views.edit_update, name="edit"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/progress/", views.publish_progress, name="progress"),
]
