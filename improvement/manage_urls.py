from django.urls import path

from improvement import manage_views as views

app_name = "improvement_manage"

urlpatterns = [
    path("<int:pk>/", views.idea, name="idea"),
    path("<int:pk>/status/", views.idea_status, name="status"),
    path("<int:pk>/decide/", views.idea_decide, name="decide"),
    path("<int:pk>/merge/", views.idea_merge, name="merge"),
    path("themes/", views.themes, name="themes"),
    path("themes/<int:pk>/", views.themes, name="theme"),
    path("themes/<int:pk>/delete/", views.theme_delete, name="theme_delete"),
    path("reported/", views.reports, name="reports"),
    path("comments/<int:pk>/hide/", views.comment_hide, name="comment_hide"),
    path("comments/<int:pk>/keep/", views.comment_keep, name="comment_keep"),
    path("from-key-point/<int:pk>/", views.from_key_point, name="from_key_point"),
    path("from-answer/<int:pk>/", views.from_answer, name="from_answer"),
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/status/", views.round_status, name="round_status"),
    path("rounds/<int:pk>/results/", views.round_results_view, name="round_results"),
    path(
        "rounds/<int:pk>/scorers/<int:scorer>/remove/",
        views.round_scorer_remove,
        name="round_scorer_remove",
    ),
]
