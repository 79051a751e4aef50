from django.urls import path

from improvement import project_views as views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("new/", views.project_new, name="new"),
    path("<int:pk>/", views.project_detail, name="project"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/status/", views.project_status, name="status"),
    path("<int:pk>/team/", views.project_team, name="team"),
    path("<int:pk>/result/", views.project_result, name="result"),
    path("<int:pk>/cycles/new/", views.cycle_edit, name="cycle_new"),
    path("<int:pk>/cycles/<int:cycle>/", views.cycle_edit, name="cycle"),
    path("<int:pk>/measures/new/", views.measure_edit, name="measure_new"),
    path("<int:pk>/measures/<int:measure>/", views.measure_edit, name="measure"),
    path("<int:pk>/measures/<int:measure>/data/", views.measure_data, name="data"),
    path("<int:pk>/measures/<int:measure>/table/", views.measure_table, name="measure_table"),
    path("<int:pk>/measures/<int:measure>/data.csv", views.measure_csv, name="measure_csv"),
]
