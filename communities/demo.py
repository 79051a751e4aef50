"""Demo communities echoing the two projects in Convene's founding article."""

from communities.models import Community, Membership, MembershipPerspective, PartnerOrganisation
from members.models import User

GROUND_RULES = (
    "Everyone's experience counts: patients, carers and staff speak as equals.\n"
    "Be kind and assume good intent. Challenge ideas, not people.\n"
    "What people share about their health stays in the room unless they say otherwise.\n"
    "Say if something makes you uncomfortable; a coordinator will help."
)

DEMO_COMMUNITIES = [
    {
        "slug": "ibd-together",
        "name": "IBD Together Sheffield",
        "purpose": (
            "People living with inflammatory bowel disease lead the redesign of the IBD "
            "service with the staff who run it, so that access, communication and care fit "
            "patients' lives."
        ),
        "serves": "People with Crohn's disease or ulcerative colitis in Sheffield, their "
        "families, and the IBD team.",
        "description": (
            "Patients, carers, nurses, consultants, secretaries and researchers meet in "
            "community venues and online. You can answer a one-off survey, give feedback on "
            "ideas, come to a session, help with research, or take a paid role on the "
            "delivery group.\n\nWe write back to everyone who takes part about what we did "
            "with what they told us."
        ),
        "join_policy": Community.JoinPolicy.OPEN,
        "partner": ("VoiceTogether Advocacy", PartnerOrganisation.Kind.CHARITY),
    },
    {
        "slug": "common-ambition-bristol",
        "name": "Common Ambition Bristol",
        "purpose": (
            "African and Caribbean heritage communities steer a project to raise HIV "
            "awareness and testing, and to reduce stigma and late diagnosis."
        ),
        "serves": "People of African and Caribbean heritage in Bristol.",
        "description": (
            "Community members sit on a paid delivery group alongside professionals. We go "
            "to where people are: community centres, faith venues and local events."
        ),
        "join_policy": Community.JoinPolicy.APPROVAL,
        "partner": ("Bristol Community Health Network", PartnerOrganisation.Kind.VOLUNTARY),
    },
]

DEMO_ROLES = [
    ("coordinator@example.org", Membership.Role.COORDINATOR, ["improvement", "staff"]),
    ("partner@example.org", Membership.Role.PARTNER, ["voluntary"]),
    ("member@example.org", Membership.Role.MEMBER, ["patient", "carer"]),
]


# More people, so the members list and its filters show something real. They cannot sign
# in (no usable password); the demo logins above are for that.
DEMO_CROWD = [
    ("Adaeze Okafor", ["patient"]),
    ("Bilal Hussain", ["carer"]),
    ("Ceri Jones", ["clinician"]),
    ("Dorota Nowak", ["staff"]),
    ("Errol Campbell", ["patient", "voluntary"]),
    ("Fatima Begum", ["researcher"]),
    ("Gareth Lewis", ["analyst"]),
    ("Hannah Price", ["patient", "carer"]),
]


def _crowd(community, options) -> None:
    for i, (name, perspectives) in enumerate(DEMO_CROWD):
        email = name.lower().replace(" ", ".") + "@example.org"
        person, created = User.objects.get_or_create(email=email, defaults={"name": name})
        if created:
            person.set_unusable_password()
            person.save(update_fields=["password"])
        membership, _ = Membership.objects.get_or_create(
            community=community,
            user=person,
            defaults={
                "status": Membership.Status.ACTIVE,
                "rules_version_agreed": community.ground_rules_version,
            },
        )
        for perspective in perspectives:
            MembershipPerspective.objects.get_or_create(
                membership=membership, perspective=perspective
            )
        membership.involvement.set(options[i % len(options) :][:2])


def seed(*, out) -> None:
    for fields in DEMO_COMMUNITIES:
        fields = dict(fields)
        partner_name, partner_kind = fields.pop("partner")
        community, _ = Community.objects.update_or_create(
            slug=fields.pop("slug"), defaults={**fields, "ground_rules": GROUND_RULES}
        )
        community.ensure_default_involvement_options()
        partner, _ = PartnerOrganisation.objects.get_or_create(
            name=partner_name, defaults={"kind": partner_kind}
        )
        community.partners.add(partner)
        options = list(community.involvement_options.all())
        for email, role, perspectives in DEMO_ROLES:
            membership, _ = Membership.objects.update_or_create(
                community=community,
                user=User.objects.get(email=email),
                defaults={
                    "role": role,
                    "status": Membership.Status.ACTIVE,
                    "rules_version_agreed": community.ground_rules_version,
                    # The demo partner works for the community's partner organisation, so
                    # they run the sessions it hosts.
                    "organisation": partner if role == Membership.Role.PARTNER else None,
                },
            )
            for perspective in perspectives:
                MembershipPerspective.objects.get_or_create(
                    membership=membership, perspective=perspective
                )
            membership.involvement.set(options[:3])
        _crowd(community, options)
    out.write(f"Demo communities: {', '.join(c['name'] for c in DEMO_COMMUNITIES)}")
