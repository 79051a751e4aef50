from django.urls import path

from engagement import manage_views

app_name = "engagement_manage"

urlpatterns = [
    path("", manage_views.sessions, name="sessions"),
    path("new/", manage_views.edit, name="new"),
    path("venues/", manage_views.venues, name="venues"),
    path("venues/<int:pk>/", manage_views.venues, name="venue"),
    path("<int:pk>/", manage_views.session, name="session"),
    path("<int:pk>/edit/", manage_views.edit, name="edit"),
    path("<int:pk>/publish/", manage_views.publish, name="publish"),
    path("<int:pk>/cancel/", manage_views.cancel, name="cancel"),
    path("<int:pk>/copy/", manage_views.copy, name="copy"),
    path("<int:pk>/key-points/", manage_views.add_key_point, name="add_key_point"),
    path(
        "<int:pk>/key-points/<int:point>/remove/",
        manage_views.remove_key_point,
        name="remove_key_point",
    ),
]
