from django.urls import path

from engagement import survey_views

app_name = "surveys"

urlpatterns = [
    path("<int:pk>/", survey_views.survey, name="survey"),
    path("<int:pk>/poster/", survey_views.poster, name="poster"),
    path("<int:pk>/poster/qr.svg", survey_views.poster_qr, name="poster_qr"),
]
