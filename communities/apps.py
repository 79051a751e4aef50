from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = _("Communities")

    def ready(self):
        from communities import personal_data
        from members.personal_data import Section, register

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
