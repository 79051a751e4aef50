import json

from django.core.management.base import BaseCommand, CommandError

from members import health


class Command(BaseCommand):
    help = "Check the database, broker and scheduler as /healthz does; exit 1 if any fails."

    def handle(self, *args, **options):
        body = health.report()
        self.stdout.write(json.dumps(body))
        if body["failing"]:
            raise CommandError(f"Unhealthy: {', '.join(body['failing'])}")
