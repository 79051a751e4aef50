"""Every route of sessions, surveys and payments. Coordinators' and partners' routes live
under /c/<slug>/manage/ and are named manage_<thing>."""

from django.urls import path

from engagement import manage_views, payment_views, survey_views, views

app_name = "engagement"

C = "c/<slug:slug>"

urlpatterns = [
    # Sessions, as members and visitors see them.
    path(f"{C}/sessions/", views.session_list, name="sessions"),
    path(f"{C}/sessions/calendar.ics", views.community_feed, name="sessions_feed"),
    path(f"{C}/sessions/<int:pk>/", views.session_detail, name="session"),
    path(f"{C}/sessions/<int:pk>/register/", views.register, name="session_register"),
    path(f"{C}/sessions/<int:pk>/cancel/", views.cancel, name="session_cancel"),
    path(f"{C}/sessions/<int:pk>/session.ics", views.session_ics, name="session_ics"),
    path(f"{C}/sessions/<int:pk>/poster/", views.poster, name="session_poster"),
    path(f"{C}/sessions/<int:pk>/poster/qr.svg", views.poster_qr, name="session_poster_qr"),
    # Running sessions: coordinators, and partners for the sessions they run.
    path(f"{C}/manage/sessions/", manage_views.sessions, name="manage_sessions"),
    path(f"{C}/manage/sessions/new/", manage_views.edit, name="manage_session_new"),
    path(f"{C}/manage/sessions/venues/", manage_views.venues, name="manage_venues"),
    path(f"{C}/manage/sessions/venues/<int:pk>/", manage_views.venues, name="manage_venue"),
    path(f"{C}/manage/sessions/<int:pk>/", manage_views.session, name="manage_session"),
    path(f"{C}/manage/sessions/<int:pk>/edit/", manage_views.edit, name="manage_session_edit"),
    path(
        f"{C}/manage/sessions/<int:pk>/publish/",
        manage_views.publish,
        name="manage_session_publish",
    ),
    path(
        f"{C}/manage/sessions/<int:pk>/cancel/", manage_views.cancel, name="manage_session_cancel"
    ),
    path(f"{C}/manage/sessions/<int:pk>/copy/", manage_views.copy, name="manage_session_copy"),
    path(
        f"{C}/manage/sessions/<int:pk>/key-points/",
        manage_views.add_key_point,
        name="manage_key_point_add",
    ),
    path(
        f"{C}/manage/sessions/<int:pk>/key-points/<int:point>/remove/",
        manage_views.remove_key_point,
        name="manage_key_point_remove",
    ),
    # Surveys.
    path(f"{C}/surveys/<int:pk>/", survey_views.survey, name="survey"),
    path(f"{C}/surveys/<int:pk>/poster/", survey_views.poster, name="survey_poster"),
    path(f"{C}/surveys/<int:pk>/poster/qr.svg", survey_views.poster_qr, name="survey_poster_qr"),
    path(f"{C}/manage/surveys/", survey_views.manage_surveys, name="manage_surveys"),
    path(f"{C}/manage/surveys/<int:pk>/", survey_views.manage_surveys, name="manage_survey"),
    path(f"{C}/manage/surveys/<int:pk>/paper/", survey_views.paper, name="manage_survey_paper"),
    path(
        f"{C}/manage/surveys/<int:pk>/questions/",
        survey_views.manage_question,
        name="manage_survey_question_new",
    ),
    path(
        f"{C}/manage/surveys/<int:pk>/questions/<int:question>/",
        survey_views.manage_question,
        name="manage_survey_question",
    ),
    path(
        f"{C}/manage/surveys/<int:pk>/questions/<int:question>/delete/",
        survey_views.delete_question,
        name="manage_survey_question_delete",
    ),
    path(
        f"{C}/manage/surveys/<int:pk>/results/",
        survey_views.results,
        name="manage_survey_results",
    ),
    path(
        f"{C}/manage/surveys/<int:pk>/results.csv",
        survey_views.results_csv,
        name="manage_survey_results_csv",
    ),
    # Payments: claims by the people who take part, decided by coordinators.
    path(f"{C}/payments/claim/", payment_views.claim_new, name="claim_new"),
    path(f"{C}/payments/choice/", payment_views.payment_choice, name="payment_choice"),
    path(f"{C}/payments/claims/<int:pk>/", payment_views.claim_detail, name="claim"),
    path(f"{C}/payments/claims/<int:pk>/answer/", payment_views.claim_answer, name="claim_answer"),
    path(
        f"{C}/payments/claims/<int:pk>/withdraw/",
        payment_views.claim_withdraw,
        name="claim_withdraw",
    ),
    path(f"{C}/payments/claims/<int:pk>/decide/", payment_views.claim_decide, name="claim_decide"),
    path(f"{C}/payments/claims/<int:pk>/paid/", payment_views.claim_paid, name="claim_paid"),
    path(
        f"{C}/payments/claims/<int:pk>/receipts/<int:expense>/",
        payment_views.receipt,
        name="claim_receipt",
    ),
    path(f"{C}/manage/payments/", payment_views.manage, name="manage_claims"),
    path(f"{C}/manage/payments/rates/", payment_views.rates, name="manage_rates"),
    path(
        f"{C}/manage/payments/settings/",
        payment_views.payment_settings,
        name="manage_payment_settings",
    ),
    path(f"{C}/manage/payments/totals/", payment_views.totals, name="manage_payment_totals"),
    path(
        f"{C}/manage/payments/payments.csv",
        payment_views.finance_csv,
        name="manage_payments_csv",
    ),
    path("me/payments/", payment_views.my_payments, name="my_payments"),
]
