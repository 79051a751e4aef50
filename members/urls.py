from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("me/", views.profile, name="profile"),
    path("me/equality/", views.equality, name="equality"),
    path("me/equality/withdraw/", views.equality_withdraw, name="equality_withdraw"),
    path("me/data/", views.my_data, name="data"),
    path("me/data/download/", views.download_data, name="download_data"),
    path("me/data/delete/", views.delete_account, name="delete_account"),
    path("me/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path(
        "me/unsubscribe/<str:token>/one-click/",
        views.unsubscribe_one_click,
        name="unsubscribe_one_click",
    ),
    path("healthz", views.healthz, name="healthz"),
]
