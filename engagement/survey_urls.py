from django.urls import path

from engagement import survey_views

app_name = "surveys"

urlpatterns = [
    path("<int:pk>/", survey_views.survey, name="survey"),
]
