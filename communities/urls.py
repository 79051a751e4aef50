from django.urls import path

from communities import manage_views, views

app_name = "communities"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.community_detail, name="detail"),
    path("c/<slug:slug>/join/", views.join, name="join"),
    path("c/<slug:slug>/my-involvement/", views.choices, name="choices"),
    path("c/<slug:slug>/ground-rules/agree/", views.agree_rules, name="agree_rules"),
    path("c/<slug:slug>/leave/", views.leave, name="leave"),
    path(
        "c/<slug:slug>/equality-offer/dismiss/",
        views.dismiss_equality_offer,
        name="dismiss_equality_offer",
    ),
    path("c/<slug:slug>/invitations/<str:token>/", views.invitation, name="invitation"),
    path("c/<slug:slug>/manage/", manage_views.dashboard, name="manage_dashboard"),
    path("c/<slug:slug>/manage/members/", manage_views.members, name="manage_members"),
    path("c/<slug:slug>/manage/members.csv", manage_views.members_csv, name="manage_members_csv"),
    path(
        "c/<slug:slug>/manage/members/<int:pk>/", manage_views.member_detail, name="manage_member"
    ),
    path(
        "c/<slug:slug>/manage/members/<int:pk>/remove/",
        manage_views.member_remove,
        name="manage_member_remove",
    ),
    path("c/<slug:slug>/manage/requests/", manage_views.requests, name="manage_requests"),
    path("c/<slug:slug>/manage/requests/<int:pk>/", manage_views.decide, name="manage_decide"),
    path("c/<slug:slug>/manage/invitations/", manage_views.invitations, name="manage_invitations"),
    path(
        "c/<slug:slug>/manage/invitations/<int:pk>/resend/",
        manage_views.invitation_resend,
        name="manage_invitation_resend",
    ),
    path(
        "c/<slug:slug>/manage/invitations/<int:pk>/revoke/",
        manage_views.invitation_revoke,
        name="manage_invitation_revoke",
    ),
    path("c/<slug:slug>/manage/edit/", manage_views.edit, name="manage_edit"),
    path("c/<slug:slug>/manage/contact/", manage_views.contact_list, name="manage_contact_list"),
    path(
        "c/<slug:slug>/manage/contact/<int:pk>/done/",
        manage_views.contact_done,
        name="manage_contact_done",
    ),
    path("c/<slug:slug>/manage/involvement/", manage_views.involvement, name="manage_involvement"),
    path(
        "c/<slug:slug>/manage/involvement/<int:pk>/",
        manage_views.involvement,
        name="manage_involvement_edit",
    ),
    path("c/<slug:slug>/manage/partners/", manage_views.partners, name="manage_partners"),
    path(
        "c/<slug:slug>/manage/partners/<int:pk>/",
        manage_views.partners,
        name="manage_partner_edit",
    ),
    path(
        "c/<slug:slug>/manage/partners/<int:pk>/unlink/",
        manage_views.partner_unlink,
        name="manage_partner_unlink",
    ),
]
