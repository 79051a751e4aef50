"""Demo communities echoing the two projects in Convene's founding article."""

from communities.models import Community, Membership
from members.models import User

DEMO_COMMUNITIES = [
    {
        "slug": "ibd-together",
        "name": "IBD Together Sheffield",
        "purpose": (
            "People living with inflammatory bowel disease lead the redesign of the IBD "
            "service with the staff who run it, so that access, communication and care fit "
            "patients' lives."
        ),
        "description": (
            "Patients, carers, nurses, consultants, secretaries and researchers meet in "
            "community venues and online. You can answer a one-off survey, give feedback on "
            "ideas, come to a session, help with research, or take a paid role on the "
            "delivery group.\n\nWe write back to everyone who takes part about what we did "
            "with what they told us."
        ),
    },
    {
        "slug": "common-ambition-bristol",
        "name": "Common Ambition Bristol",
        "purpose": (
            "African and Caribbean heritage communities steer a project to raise HIV "
            "awareness and testing, and to reduce stigma and late diagnosis."
        ),
        "description": (
            "Community members sit on a paid delivery group alongside professionals. We go "
            "to where people are: community centres, faith venues and local events."
        ),
    },
]

DEMO_ROLES = [
    ("coordinator@example.org", Membership.Role.COORDINATOR),
    ("partner@example.org", Membership.Role.PARTNER),
    ("member@example.org", Membership.Role.MEMBER),
]


def seed(*, out) -> None:
    for fields in DEMO_COMMUNITIES:
        community, _ = Community.objects.update_or_create(
            slug=fields["slug"], defaults={k: v for k, v in fields.items() if k != "slug"}
        )
        for email, role in DEMO_ROLES:
            Membership.objects.update_or_create(
                community=community, user=User.objects.get(email=email), defaults={"role": role}
            )
    out.write(f"Demo communities: {', '.join(c['name'] for c in DEMO_COMMUNITIES)}")
