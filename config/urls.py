from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from communities import views as community_views
from engagement import payment_views, survey_views
from improvement import update_views
from members import views as member_views

# The admin logs in through allauth, so its rate limits cover the admin too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Convene administration")
admin.site.site_title = _("Convene admin")

urlpatterns = [
    path("", community_views.home, name="home"),
    path("c/<slug:slug>/sessions/", include("engagement.urls")),
    path("c/<slug:slug>/manage/sessions/", include("engagement.manage_urls")),
    path("c/<slug:slug>/surveys/", include("engagement.survey_urls")),
    path("c/<slug:slug>/payments/", include("engagement.payment_urls")),
    path("c/<slug:slug>/manage/payments/", include("engagement.manage_payment_urls")),
    path("c/<slug:slug>/ideas/", include("improvement.urls")),
    path("c/<slug:slug>/manage/ideas/", include("improvement.manage_urls")),
    path("c/<slug:slug>/updates/", include("improvement.update_urls")),
    path("c/<slug:slug>/projects/", include("improvement.project_urls")),
    path("c/<slug:slug>/manage/updates/", include("improvement.manage_update_urls")),
    path("c/<slug:slug>/manage/surveys/", survey_views.manage_surveys, name="surveys"),
    path("c/<slug:slug>/manage/surveys/<int:pk>/paper/", survey_views.paper, name="survey_paper"),
    path("c/<slug:slug>/manage/surveys/<int:pk>/", survey_views.manage_surveys, name="survey_edit"),
    path(
        "c/<slug:slug>/manage/surveys/<int:pk>/questions/",
        survey_views.manage_question,
        name="survey_question_new",
    ),
    path(
        "c/<slug:slug>/manage/surveys/<int:pk>/questions/<int:question>/",
        survey_views.manage_question,
        name="survey_question",
    ),
    path(
        "c/<slug:slug>/manage/surveys/<int:pk>/questions/<int:question>/delete/",
        survey_views.delete_question,
        name="survey_question_delete",
    ),
    path(
        "c/<slug:slug>/manage/surveys/<int:pk>/results/",
        survey_views.results,
        name="survey_results",
    ),
    path(
        "c/<slug:slug>/manage/surveys/<int:pk>/results.csv",
        survey_views.results_csv,
        name="survey_results_csv",
    ),
    path("c/", include("communities.urls")),
    path("me/input/", update_views.my_input, name="my_input"),
    path("me/payments/", payment_views.my_payments, name="my_payments"),
    path("me/", include("members.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", member_views.healthz, name="healthz"),
]

if settings.CONVENE_BENCH:
    # Measuring speed only (make bench): a bare view, and the last request's totals.
    urlpatterns.append(path("", include("members.bench")))
