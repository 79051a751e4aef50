from django.urls import path

from engagement import views

app_name = "engagement"

urlpatterns = [
    path("", views.session_list, name="sessions"),
    path("calendar.ics", views.community_feed, name="feed"),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/session.ics", views.session_ics, name="session_ics"),
    path("<int:pk>/poster/", views.poster, name="poster"),
    path("<int:pk>/poster/qr.svg", views.poster_qr, name="poster_qr"),
]
