"""Generate one large community, to measure Convene at the size of a big care-board panel.

    python manage.py scale_data                         # 100,000 members (a few minutes)
    python manage.py scale_data --members 2000 --ideas 1000 --supports 10000 ...
    python manage.py scale_data --replace               # throw the old one away first

The same `--seed` gives the same community (names, inputs, statuses; times are counted back
from the start of today, UTC). Rows are written in bulk (PostgreSQL's COPY, or `bulk_create`
on SQLite) without the services, so nobody is notified; they are made the way the services
would make them: memberships with statuses and perspectives, ideas with their history,
decisions with reasons, merged ideas pointing at the idea they joined, sessions past and to
come with registrations, attendance and walk-ins, a survey with its answers, published
updates, a project with measures and cycles, and claims at the rate in force on their day.

One "busy member" has given well over a thousand inputs, for the "my input" page.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from communities.models import Community
from engagement.models import (
    Claim,
    Session,
)
from improvement.models import Idea
from improvement.scale.base import DEFAULTS, domain
from improvement.scale.generator import Generator
from members.models import User


class Command(BaseCommand):
    help = "Generate one large community for measuring speed (see README, Measuring speed)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="scale")
        parser.add_argument("--seed", type=int, default=13)
        for name, default in DEFAULTS.items():
            parser.add_argument(f"--{name}", type=int, default=default)
        parser.add_argument(
            "--replace", action="store_true", help="Delete a community with this slug first."
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off. The logins it prints have a published password.",
        )

    def handle(self, *args, slug, seed, replace, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "The scale community's logins have a published password, so it is made only "
                "with DEBUG on. Pass --allow-production if you really mean it."
            )
        sizes = {name: options[name] for name in DEFAULTS}
        if sizes["members"] < 10 or any(n < 0 for n in sizes.values()):
            raise CommandError("Use at least 10 members, and no negative sizes.")
        started = time.monotonic()
        with transaction.atomic():
            existing = Community.objects.filter(slug=slug).first()
            people = _generated_people(slug)
            if existing or people.exists():
                if not replace:
                    raise CommandError(
                        f"A community with the web address {slug!r} (or its people) is already "
                        "there. Pass --replace to delete it and make it again."
                    )
                self.stdout.write(f"Deleting the old {slug!r} community…")
                deleting = time.monotonic()
                if existing:
                    _delete(existing)
                people.delete()
                self.stdout.write(f"  deleted in {time.monotonic() - deleting:.1f} s")
            generator = Generator(slug=slug, seed=seed, sizes=sizes, out=self.stdout)
            generator.run()
        elapsed = time.monotonic() - started
        generator.report(elapsed)


def _delete(community: Community) -> None:
    # Claims hold on to their sessions, merged ideas to the ideas they joined, and sessions to
    # their venues (all PROTECT): those go first, then everything else with the community.
    Claim.objects.filter(community=community).delete()
    Idea.objects.filter(community=community, merged_into__isnull=False).delete()
    Session.objects.filter(community=community).delete()
    community.delete()


def _generated_people(slug: str):
    return User.objects.filter(
        Q(email__endswith=f"@{domain(slug)}") | Q(email__startswith=f"erased-{slug}-")
    )
