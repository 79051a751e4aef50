"""Every route of ideas, rounds, updates and projects. Coordinators' routes live under
/c/<slug>/manage/ and are named manage_<thing>."""

from django.urls import path

from improvement import manage_views, project_views, update_views, views

app_name = "improvement"

C = "c/<slug:slug>"
IDEA = f"{C}/ideas/<int:pk>"
PROJECT = f"{C}/projects/<int:pk>"
MEASURE = f"{PROJECT}/measures/<int:measure>"

urlpatterns = [
    # Ideas, support, comments and scoring, as members see them.
    path(f"{C}/ideas/", views.idea_list, name="ideas"),
    path(f"{C}/ideas/new/", views.idea_new, name="idea_new"),
    path(f"{C}/ideas/on-behalf/", views.idea_on_behalf, name="idea_on_behalf"),
    path(f"{IDEA}/", views.idea_detail, name="idea"),
    path(f"{IDEA}/support/", views.support, name="idea_support"),
    path(f"{IDEA}/comments/", views.comment, name="idea_comment"),
    path(f"{IDEA}/comments/<int:comment_pk>/edit/", views.comment_edit, name="comment_edit"),
    path(f"{IDEA}/comments/<int:comment_pk>/report/", views.comment_report, name="comment_report"),
    path(f"{C}/ideas/rounds/<int:pk>/", views.score, name="round_score"),
    # Ideas, as coordinators run them.
    path(f"{C}/manage/ideas/<int:pk>/", manage_views.idea, name="manage_idea"),
    path(f"{C}/manage/ideas/<int:pk>/status/", manage_views.idea_status, name="manage_idea_status"),
    path(f"{C}/manage/ideas/<int:pk>/decide/", manage_views.idea_decide, name="manage_idea_decide"),
    path(f"{C}/manage/ideas/<int:pk>/merge/", manage_views.idea_merge, name="manage_idea_merge"),
    path(f"{C}/manage/ideas/themes/", manage_views.themes, name="manage_themes"),
    path(f"{C}/manage/ideas/themes/<int:pk>/", manage_views.themes, name="manage_theme"),
    path(
        f"{C}/manage/ideas/themes/<int:pk>/delete/",
        manage_views.theme_delete,
        name="manage_theme_delete",
    ),
    path(f"{C}/manage/ideas/reported/", manage_views.reports, name="manage_reports"),
    path(
        f"{C}/manage/ideas/comments/<int:pk>/hide/",
        manage_views.comment_hide,
        name="manage_comment_hide",
    ),
    path(
        f"{C}/manage/ideas/comments/<int:pk>/keep/",
        manage_views.comment_keep,
        name="manage_comment_keep",
    ),
    path(
        f"{C}/manage/ideas/from-key-point/<int:pk>/",
        manage_views.from_key_point,
        name="manage_idea_from_key_point",
    ),
    path(
        f"{C}/manage/ideas/from-answer/<int:pk>/",
        manage_views.from_answer,
        name="manage_idea_from_answer",
    ),
    path(f"{C}/manage/ideas/rounds/", manage_views.rounds, name="manage_rounds"),
    path(f"{C}/manage/ideas/rounds/<int:pk>/", manage_views.round_detail, name="manage_round"),
    path(
        f"{C}/manage/ideas/rounds/<int:pk>/status/",
        manage_views.round_status,
        name="manage_round_status",
    ),
    path(
        f"{C}/manage/ideas/rounds/<int:pk>/results/",
        manage_views.round_results_view,
        name="manage_round_results",
    ),
    path(
        f"{C}/manage/ideas/rounds/<int:pk>/scorers/<int:scorer>/remove/",
        manage_views.round_scorer_remove,
        name="manage_round_scorer_remove",
    ),
    # "You said, we did" updates.
    path(f"{C}/updates/", update_views.board, name="updates"),
    path(f"{C}/updates/<int:pk>/", update_views.update_detail, name="update"),
    path(f"{C}/manage/updates/", update_views.manage_updates, name="manage_updates"),
    path(f"{C}/manage/updates/new/", update_views.edit_update, name="manage_update_new"),
    path(f"{C}/manage/updates/<int:pk>/", update_views.edit_update, name="manage_update"),
    path(
        f"{C}/manage/updates/<int:pk>/publish/",
        update_views.publish,
        name="manage_update_publish",
    ),
    path(
        f"{C}/manage/updates/<int:pk>/progress/",
        update_views.publish_progress,
        name="manage_update_progress",
    ),
    path("me/input/", update_views.my_input, name="my_input"),
    # Improvement projects, run by their teams.
    path(f"{C}/projects/", project_views.project_list, name="projects"),
    path(f"{C}/projects/new/", project_views.project_new, name="project_new"),
    path(f"{PROJECT}/", project_views.project_detail, name="project"),
    path(f"{PROJECT}/edit/", project_views.project_edit, name="project_edit"),
    path(f"{PROJECT}/status/", project_views.project_status, name="project_status"),
    path(f"{PROJECT}/team/", project_views.project_team, name="project_team"),
    path(f"{PROJECT}/result/", project_views.project_result, name="project_result"),
    path(f"{PROJECT}/cycles/new/", project_views.cycle_edit, name="project_cycle_new"),
    path(f"{PROJECT}/cycles/<int:cycle>/", project_views.cycle_edit, name="project_cycle"),
    path(f"{PROJECT}/measures/new/", project_views.measure_edit, name="project_measure_new"),
    path(f"{MEASURE}/", project_views.measure_edit, name="project_measure"),
    path(f"{MEASURE}/data/", project_views.measure_data, name="project_measure_data"),
    path(f"{MEASURE}/table/", project_views.measure_table, name="project_measure_table"),
    path(f"{MEASURE}/data.csv", project_views.measure_csv, name="project_measure_csv"),
]
