from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Communities")

    def ready(self):
        from django.urls import reverse

        from communities import personal_data
        from communities.models import (
            Invitation,
            InvolvementOption,
            Membership,
            MembershipPerspective,
        )
        from members import revisions

        # The dashboard's counts of people and the members list follow every write to
        # memberships (their perspectives and ways of taking part too) and invitations.
        revisions.follow(Membership, Membership.MEMBERS_REVISION, "community")
        revisions.follow(
            MembershipPerspective, Membership.MEMBERS_REVISION, "membership__community"
        )
        revisions.follow(InvolvementOption, Membership.MEMBERS_REVISION, "community")
        revisions.follow(Invitation, Membership.MEMBERS_REVISION, "community")
        from members.outbox import Kind, register_kind
        from members.personal_data import Section, register

        def manage_requests(membership):
            return reverse("communities:manage_requests", args=[membership.community.slug])

        def community_page(membership):
            return membership.community.get_absolute_url()

        with_community = ("community",)
        register_kind(Kind("join_request", "alerts", manage_requests, with_community))
        register_kind(Kind("request_withdrawn", "alerts", manage_requests, with_community))
        # Answers to something the person asked for: always sent, like account emails.
        register_kind(Kind("request_approved", None, community_page, with_community))
        register_kind(Kind("request_declined", None, community_page, with_community))
        register_kind(Kind("invitation", None, lambda i: i.get_absolute_url(), with_community))

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
