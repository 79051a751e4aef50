from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Communities")

    def ready(self):
        from django.urls import reverse

        from communities import personal_data
        from members.outbox import Kind, register_kind
        from members.personal_data import Section, register

        def manage_requests(membership):
            return reverse("communities:manage_requests", args=[membership.community.slug])

        def community_page(membership):
            return membership.community.get_absolute_url()

        register_kind(Kind("join_request", group="alerts", link=manage_requests))
        register_kind(Kind("request_withdrawn", group="alerts", link=manage_requests))
        # Answers to something the person asked for: always sent, like account emails.
        register_kind(Kind("request_approved", group=None, link=community_page))
        register_kind(Kind("request_declined", group=None, link=community_page))
        register_kind(Kind("invitation", group=None, link=lambda i: i.get_absolute_url()))

        register(
            Section(
                name="memberships",
                export=personal_data.export_memberships,
                erase=personal_data.erase_memberships,
            )
        )
        register(
            Section(
                name="invitations",
                export=personal_data.export_invitations,
                erase=personal_data.erase_invitations,
            )
        )
