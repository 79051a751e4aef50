from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("People")

    def ready(self):
        from members.outbox import Kind, register_kind

        register_kind(Kind("account", group=None))
