"""Demo venues and sessions: meeting where people already are. And paying people for
their time: the community's rates, budget and threshold, a paid role, people's choices
about payment, and claims at each step of their approval (see `_payments`)."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from communities.models import Community, Membership
from engagement import payments, services
from engagement.models import (
    Activity,
    Basis,
    Claim,
    Expense,
    KeyPoint,
    PaidRole,
    PaymentChoice,
    PaymentSettings,
    Rate,
    Registration,
    Session,
    Venue,
)
from members.models import User

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
            services.record_attendance(
                session=session,
                came=[registration.pk],
                walk_in_count=6,
                walk_in_perspectives=["carer", "patient"],
                attendance_notes="Two people came with a community leader from the centre.",
                completed=False,  # made completed above
            )
            KeyPoint.objects.get_or_create(
                session=session, text="Clinic letters use words people do not understand."
            )
            KeyPoint.objects.get_or_create(
                session=session, text="It is hard to get through on the phone to change a time."
            )
    _survey(community, member)
    out.write(f"Demo sessions: {len(SESSIONS)} at {len(VENUES)} venues, and a survey")
    _payments(community)
    out.write(f"Demo payments: {len(RATES)} rates, a paid role and {len(CLAIMS)} claims")


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
        [
            ("no", 0, 2, "Too many abbreviations."),
            ("no", 1, 3, ""),
            ("yes", 2, 4, ""),
            ("no", 0, 1, "I could not tell what the result meant."),
        ]
    ):
        response = Response.objects.create(survey=survey, user=member if i == 0 else None)
        answers = [(clear, yes_no), (change, str(choices[pick].pk)), (rating, str(score))]
        if text:
            answers.append((words, text))
        _save_answers(response, answers)


# --- Paying people -----------------------------------------------------------------------------

# Example figures for the demo only, in the spirit of public contributor payment guidance:
# a community sets its own under Manage, Payments, Rates, and nothing in Convene's code
# depends on these amounts.
RATES = [
    # (activity, basis, amount)
    (Activity.SESSION, Basis.HOUR, "27.50"),
    (Activity.MEETING, Basis.HALF_DAY, "82.50"),
    (Activity.PREPARATION, Basis.HOUR, "27.50"),
    (Activity.TRAINING, Basis.DAY, "165.00"),
    (Activity.COFACILITATING, Basis.ACTIVITY, "90.00"),
]
# A fixed date, so that running the demo again on another day adds no new rates.
RATES_FROM = date(2025, 12, 16)
BUDGET = Decimal("5000.00")  # example figure
THRESHOLD = Decimal("1000.00")  # example figure: a real community asks its finance team

DEMO_PAYEES = {
    "cora": "coordinator@example.org",
    "michael": "member@example.org",
    "adaeze": "adaeze.okafor@example.org",
    "bilal": "bilal.hussain@example.org",
    "errol": "errol.campbell@example.org",
    "hannah": "hannah.price@example.org",
}
# Michael (a patient, and the demo member login) coaches the clinic teams.
PAID_ROLE = {"person": "michael", "title": "Microsystems coach", "hours_per_month": "8",
             "hourly_rate": "27.50", "days_ago": 60}  # fmt: skip
CHOICES = [
    # (person, choice, charity): everyone else accepts payment, the default.
    ("bilal", PaymentChoice.Choice.CHARITY, "Crohn's & Colitis UK"),
    ("hannah", PaymentChoice.Choice.DECLINE, ""),
]
LISTENING_SESSION = "First listening session"
# Each claim: who, what for, the day (days ago, or the listening session's day), hours,
# description (how the demo finds it again), expenses, and what has happened to it, each
# step so many days ago. Hannah came to the listening session without registering, so her
# claim (entered from her paper form by Cora) is flagged as not recorded as attending; she
# declines payment for her time, but her carer cover is repaid.
CLAIMS = [
    {
        "person": "michael", "kind": Claim.Kind.SESSION, "session": LISTENING_SESSION,
        "description": "The first listening session",
        "expenses": [(Expense.Kind.TRAVEL, "Bus there and back", "4.80")],
        "made": 13, "decided": 10, "status": Claim.Status.PAID,
        "paid": 4, "reference": "DEMO-PAY-0142",
    },
    {
        "person": "hannah", "kind": Claim.Kind.SESSION, "session": LISTENING_SESSION,
        "description": "Came to the listening session on the day (paper form)",
        "expenses": [(Expense.Kind.CARER, "Sitting service for my dad while I was out",
                      "24.00")],
        "made": 12, "entered_by": "cora", "status": Claim.Status.SUBMITTED,
    },
    {
        "person": "errol", "kind": Claim.Kind.HOURS, "activity": Activity.COFACILITATING,
        "session_day": LISTENING_SESSION, "hours": "3",
        "description": "Co-facilitating the listening session, with setting up the room",
        "expenses": [(Expense.Kind.TRAVEL, "Tram there and back", "5.20")],
        "made": 13, "decided": 9, "status": Claim.Status.APPROVED,
    },
    {
        "person": "errol", "kind": Claim.Kind.HOURS, "activity": Activity.TRAINING,
        "days_ago": 25, "hours": "6", "description": "Improvement methods training day",
        "expenses": [(Expense.Kind.TRAVEL, "Train to Leeds and back", "11.90"),
                     (Expense.Kind.CHILDCARE, "After-school club", "18.00")],
        "made": 24, "decided": 22, "status": Claim.Status.PAID,
        "paid": 18, "reference": "DEMO-PAY-0127",
    },
    {
        "person": "bilal", "kind": Claim.Kind.MEETING, "days_ago": 16, "hours": "3",
        "description": "Delivery group meeting",
        "expenses": [(Expense.Kind.CARER, "Cover for my mum during the meeting", "30.00")],
        "made": 15, "decided": 8, "status": Claim.Status.APPROVED,
    },
    {
        "person": "adaeze", "kind": Claim.Kind.HOURS, "activity": Activity.PREPARATION,
        "days_ago": 7, "hours": "3",
        "description": "Reading the survey results before the delivery group",
        "expenses": [], "made": 6, "decided": 3, "status": Claim.Status.QUERIED,
        "question": "Thank you, Adaeze. The papers were about an hour and a half of reading: "
        "were the other hours spent on the notes you sent round? If so, just say and I will "
        "approve it.",
    },
    {
        "person": "michael", "kind": Claim.Kind.HOURS, "activity": Activity.ROLE,
        "days_ago": 5, "hours": "6",
        "description": "Coaching the clinic letters team: two huddles and a debrief",
        "expenses": [(Expense.Kind.TRAVEL, "Parking at the hospital", "7.50")],
        "made": 2, "status": Claim.Status.SUBMITTED,
    },
]  # fmt: skip


def _payments(community) -> None:
    """Rates, settings, a paid role, choices and claims, each made only once: a second run
    finds them (rates by activity and date, the role by its title, claims by their
    description) and leaves them, and whatever a demo user did to them, as they are.

    Claims are written directly, not through `payments.submit_claim`, `decide_claim` and
    `mark_paid`: those tell the coordinators and the claimant through the outbox, and, like
    the other demos, this one sends no notifications. So each claim is worked out with the
    same pieces `submit_claim` uses (the rate in force on the day, the fee at that rate, the
    person's choice, and attendance for a session claim), checked with `full_clean`, and
    given the status and decision fields the coordinator pages would have written."""
    for activity, basis, amount in RATES:
        Rate.objects.get_or_create(
            community=community,
            activity=activity,
            valid_from=RATES_FROM,
            defaults={"basis": basis, "amount": Decimal(amount)},
        )
    PaymentSettings.objects.get_or_create(
        community=community, defaults={"budget": BUDGET, "threshold": THRESHOLD}
    )
    people = {key: User.objects.get(email=email) for key, email in DEMO_PAYEES.items()}
    memberships = {
        m.user_id: m
        for m in Membership.objects.filter(community=community, user__in=people.values())
    }
    today = timezone.localdate()
    role, _ = PaidRole.objects.get_or_create(
        membership=memberships[people[PAID_ROLE["person"]].pk],
        title=PAID_ROLE["title"],
        defaults={
            "hours_per_month": Decimal(PAID_ROLE["hours_per_month"]),
            "hourly_rate": Decimal(PAID_ROLE["hourly_rate"]),
            "starts_on": today - timedelta(days=PAID_ROLE["days_ago"]),
        },
    )
    for key, choice, charity in CHOICES:
        membership = memberships[people[key].pk]
        if not PaymentChoice.objects.filter(membership=membership).exists():
            # The same service as the member's own choice page; it tells nobody.
            payments.set_payment_choice(membership=membership, choice=choice, charity=charity)
    for spec in CLAIMS:
        _claim(community, people, memberships, role, spec)


def _claim(community, people, memberships, role, spec) -> None:
    claimant = people[spec["person"]]
    # Claims about the listening session take its day, counted from when the demo loaded.
    session_title = spec.get("session") or spec.get("session_day")
    session = (
        Session.objects.get(community=community, title=session_title) if session_title else None
    )
    claimed_session = session if spec["kind"] == Claim.Kind.SESSION else None
    found = Claim.objects.filter(community=community, claimant=claimant)
    if found.filter(description=spec["description"]).exists() or (
        claimed_session is not None and found.filter(session=claimed_session).exists()
    ):
        return
    now, today = timezone.now(), timezone.localdate()
    day = session.starts_at.astimezone(session.zone).date() if session else None
    hours = Decimal(spec["hours"]) if spec.get("hours") else None
    not_attending = False
    if claimed_session is not None:
        # As `submit_claim` works it out: the session's length, and whether the person is
        # recorded as coming.
        activity, hours = Activity.SESSION, payments._session_hours(session)
        not_attending = not Registration.objects.filter(
            session=session, user=claimant, attended=True
        ).exists()
    elif spec["kind"] == Claim.Kind.MEETING:
        activity = Activity.MEETING
    else:
        activity = spec["activity"]
    day = day or today - timedelta(days=spec["days_ago"])
    paid_role = role if activity == Activity.ROLE else None
    rate, basis, amount = payments._rate_for(community, activity, day, paid_role)
    fee = payments.fee_for(basis=basis, amount=amount, hours=hours)
    choice = payments.choice_of(memberships[claimant.pk])
    made = now - timedelta(days=spec["made"])
    claim = Claim(
        community=community,
        claimant=claimant,
        entered_by=people[spec["entered_by"]] if spec.get("entered_by") else None,
        kind=spec["kind"],
        session=claimed_session,
        activity=activity,
        paid_role=paid_role,
        date=day,
        hours=hours,
        description=spec["description"],
        rate=rate,
        rate_amount=amount,
        rate_basis=basis,
        fee=fee,
        choice=choice.choice,
        payable=choice.payable(fee),
        charity=choice.charity if choice.choice == PaymentChoice.Choice.CHARITY else "",
        not_recorded_as_attending=not_attending,
        status=spec["status"],
        created_at=made,
        status_changed_at=made,
    )
    if "decided" in spec:
        claim.decided_by, claim.decided_at = people["cora"], now - timedelta(days=spec["decided"])
        claim.status_changed_at = claim.decided_at
        claim.question = spec.get("question", "")
    if spec["status"] == Claim.Status.PAID:
        claim.paid_on = today - timedelta(days=spec["paid"])
        claim.payment_reference = spec["reference"]
        claim.status_changed_at = now - timedelta(days=spec["paid"])
    claim.full_clean()
    claim.save()
    for kind, description, amount in spec["expenses"]:
        expense = Expense(claim=claim, kind=kind, description=description, amount=Decimal(amount))
        expense.full_clean()
        expense.save()
