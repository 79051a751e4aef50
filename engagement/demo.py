"""Demo venues and sessions: meeting where people already are."""

from datetime import timedelta

from django.utils import timezone

from communities.models import Community, Membership
from engagement.models import KeyPoint, Registration, Session, Venue

ACCESSIBLE = {"step_free": True, "accessible_toilet": True, "public_transport": True}
VENUES = [
    ("Firth Park Community Centre", Venue.Kind.COMMUNITY_CENTRE, "Firth Park Road, Sheffield",
     {**ACCESSIBLE, "hearing_loop": True}),
    ("Central Library", Venue.Kind.LIBRARY, "Surrey Street, Sheffield",
     {**ACCESSIBLE, "quiet_space": True}),
    ("Online", Venue.Kind.ONLINE, "", {}),
]  # fmt: skip

SESSIONS = [
    # (title, kind, days from now, venue index, capacity)
    ("What makes a clinic letter clear?", Session.Kind.WORKSHOP, 6, 0, 12),
    ("Drop-in: tell us about getting an appointment", Session.Kind.DROP_IN, 13, 1, None),
    ("Delivery group", Session.Kind.DELIVERY_GROUP, 20, 2, 8),
    ("First listening session", Session.Kind.FOCUS_GROUP, -14, 0, 10),
]


def seed(*, out) -> None:
    community = Community.objects.get(slug="ibd-together")
    venues = []
    for name, kind, address, facts in VENUES:
        venue, _ = Venue.objects.update_or_create(
            community=community, name=name, defaults={"kind": kind, "address": address, **facts}
        )
        venues.append(venue)
    partner = community.partners.first()
    today = timezone.localtime().replace(hour=14, minute=0, second=0, microsecond=0)
    member = Membership.objects.get(community=community, user__email="member@example.org").user
    for title, kind, days, venue_index, capacity in SESSIONS:
        start = today + timedelta(days=days)
        session, _ = Session.objects.update_or_create(
            community=community,
            title=title,
            defaults={
                "kind": kind,
                "starts_at": start,
                "ends_at": start + timedelta(hours=2),
                "venue": venues[venue_index],
                "host": partner if venue_index == 0 else None,
                "capacity": capacity,
                "registration_required": kind != Session.Kind.DROP_IN,
                "offers_refreshments": True,
                "offers_travel": True,
                "offers_payment": kind == Session.Kind.DELIVERY_GROUP,
                "status": Session.Status.PUBLISHED if days > 0 else Session.Status.COMPLETED,
            },
        )
        if session.registration_required:
            registration, _ = Registration.objects.get_or_create(
                session=session, user=member, defaults={"status": Registration.Status.REGISTERED}
            )
        if days < 0:
            # The past session: who came, and the people who turned up without registering.
            Registration.objects.filter(pk=registration.pk).update(attended=True)
            Session.objects.filter(pk=session.pk).update(
                walk_in_count=6,
                walk_in_perspectives=["carer", "patient"],
                attendance_notes="Two people came with a community leader from the centre.",
            )
            KeyPoint.objects.get_or_create(
                session=session, text="Clinic letters use words people do not understand."
            )
            KeyPoint.objects.get_or_create(
                session=session, text="It is hard to get through on the phone to change a time."
            )
    _survey(community, member)
    out.write(f"Demo sessions: {len(SESSIONS)} at {len(VENUES)} venues, and a survey")


def _survey(community, member) -> None:
    from engagement.models import Choice, Question, Response, Survey
    from engagement.services import _save_answers

    survey, created = Survey.objects.get_or_create(
        community=community,
        title="Your clinic letters",
        defaults={
            "introduction": "Five short questions about the letters the IBD clinic sends you.",
            "closes_at": timezone.now() + timedelta(days=21),
            "audience": Survey.Audience.ANYONE,
            "published": True,
        },
    )
    if not created:
        return
    clear = Question.objects.create(
        survey=survey, text="Are our letters clear?", kind="yes_no", required=True, position=1
    )
    change = Question.objects.create(
        survey=survey, text="What should we change first?", kind="single", position=2
    )
    choices = [
        Choice.objects.create(question=change, text=text, position=i)
        for i, text in enumerate(["Plainer words", "Shorter letters", "Sent sooner"])
    ]
    rating = Question.objects.create(
        survey=survey, text="How useful are they, from 1 to 5?", kind="rating", position=3
    )
    words = Question.objects.create(
        survey=survey, text="Anything else?", kind="long_text", position=4
    )
    for i, (yes_no, pick, score, text) in enumerate(
        [("no", 0, 2, "Too many abbreviations."), ("no", 1, 3, ""), ("yes", 2, 4, ""),
         ("no", 0, 1, "I could not tell what the result meant.")]
    ):  # fmt: skip
        response = Response.objects.create(survey=survey, user=member if i == 0 else None)
        answers = [(clear, yes_no), (change, str(choices[pick].pk)), (rating, str(score))]
        if text:
            answers.append((words, text))
        _save_answers(response, answers)
