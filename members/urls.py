from django.urls import path

app_name = "members"

urlpatterns: list = [
    path("", lambda request: None, name="profile"),  # replaced by the profile view
]
