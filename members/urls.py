from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("equality/", views.equality, name="equality"),
    path("equality/withdraw/", views.equality_withdraw, name="equality_withdraw"),
    path("data/", views.my_data, name="data"),
    path("data/download/", views.download_data, name="download_data"),
    path("data/delete/", views.delete_account, name="delete_account"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path(
        "unsubscribe/<str:token>/one-click/",
        views.unsubscribe_one_click,
        name="unsubscribe_one_click",
    ),
]
