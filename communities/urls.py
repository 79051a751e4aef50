from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("<slug:slug>/", views.community_detail, name="detail"),
]
