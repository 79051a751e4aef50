from django.urls import path

from improvement import views

app_name = "improvement"

urlpatterns = [
    path("", views.idea_list, name="ideas"),
    path("new/", views.idea_new, name="new"),
    path("on-behalf/", views.idea_on_behalf, name="on_behalf"),
    path("<int:pk>/", views.idea_detail, name="idea"),
    path("<int:pk>/support/", views.support, name="support"),
    path("<int:pk>/comments/", views.comment, name="comment"),
    path("<int:pk>/comments/<int:comment_pk>/edit/", views.comment_edit, name="comment_edit"),
    path("<int:pk>/comments/<int:comment_pk>/report/", views.comment_report, name="comment_report"),
    path("rounds/<int:pk>/", views.score, name="score"),
]
