from django.urls import path

from communities import manage_views, views

app_name = "communities"

urlpatterns = [
    path("<slug:slug>/", views.community_detail, name="detail"),
    path("<slug:slug>/join/", views.join, name="join"),
    path("<slug:slug>/my-involvement/", views.choices, name="choices"),
    path("<slug:slug>/ground-rules/agree/", views.agree_rules, name="agree_rules"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path(
        "<slug:slug>/equality-offer/dismiss/",
        views.dismiss_equality_offer,
        name="dismiss_equality_offer",
    ),
    path("<slug:slug>/invitations/<str:token>/", views.invitation, name="invitation"),
    path("<slug:slug>/manage/", manage_views.dashboard, name="manage"),
    path("<slug:slug>/manage/members/", manage_views.members, name="manage_members"),
    path("<slug:slug>/manage/members.csv", manage_views.members_csv, name="manage_members_csv"),
    path("<slug:slug>/manage/members/<int:pk>/", manage_views.member_detail, name="manage_member"),
    path(
        "<slug:slug>/manage/members/<int:pk>/remove/",
        manage_views.member_remove,
        name="manage_member_remove",
    ),
    path("<slug:slug>/manage/requests/", manage_views.requests, name="manage_requests"),
    path("<slug:slug>/manage/requests/<int:pk>/", manage_views.decide, name="manage_decide"),
    path("<slug:slug>/manage/invitations/", manage_views.invitations, name="manage_invitations"),
    path(
        "<slug:slug>/manage/invitations/<int:pk>/resend/",
        manage_views.invitation_resend,
        name="manage_invitation_resend",
    ),
    path(
        "<slug:slug>/manage/invitations/<int:pk>/revoke/",
        manage_views.invitation_revoke,
        name="manage_invitation_revoke",
    ),
    path("<slug:slug>/manage/edit/", manage_views.edit, name="manage_edit"),
    path("<slug:slug>/manage/contact/", manage_views.contact_list, name="manage_contact_list"),
    path(
        "<slug:slug>/manage/contact/<int:pk>/done/",
        manage_views.contact_done,
        name="manage_contact_done",
    ),
    path("<slug:slug>/manage/involvement/", manage_views.involvement, name="manage_involvement"),
    path(
        "<slug:slug>/manage/involvement/<int:pk>/",
        manage_views.involvement,
        name="manage_involvement_edit",
    ),
    path("<slug:slug>/manage/partners/", manage_views.partners, name="manage_partners"),
    path(
        "<slug:slug>/manage/partners/<int:pk>/",
        manage_views.partners,
        name="manage_partner_edit",
    ),
    path(
        "<slug:slug>/manage/partners/<int:pk>/unlink/",
        manage_views.partner_unlink,
        name="manage_partner_unlink",
    ),
]
