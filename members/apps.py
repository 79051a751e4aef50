from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("People")

    def ready(self):
        from members import revisions
        from members.models import User
        from members.outbox import Kind, register_kind

        revisions.follow_people(User)

        register_kind(Kind("account", group=None))
