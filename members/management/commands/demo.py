from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Load Convene's demo data: demo people, communities and what later features add. "
        "Safe to run again: it updates what is there instead of adding copies."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load the demo even with DEBUG off. The demo logins have a published password.",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "The demo logins have a published password, so the demo loads only with "
                "DEBUG on. Pass --allow-production if you really mean it."
            )
        # Each app may have a demo module with seed(*, out); apps run in INSTALLED_APPS
        # order, so an app's demo can use what the apps below it made.
        with transaction.atomic():
            for app in apps.get_app_configs():
                module_name = f"{app.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).seed(out=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
