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

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q

from communities.models import (
    Community,
    InvolvementOption,
    Membership,
    MembershipPerspective,
    PartnerOrganisation,
    Perspective,
)
from engagement import payments
from engagement.models import (
    Activity,
    Answer,
    Basis,
    Choice,
    Claim,
    Expense,
    KeyPoint,
    PaidRole,
    Participation,
    PaymentChoice,
    PaymentSettings,
    Question,
    Rate,
    Registration,
    Response,
    Session,
    Survey,
    Venue,
)
from improvement.management.commands._rows import RowWriter
from improvement.models import (
    Comment,
    CommentReport,
    Cycle,
    DataPoint,
    Decision,
    Idea,
    IdeaEvent,
    Measure,
    Project,
    Support,
    TeamMember,
    Theme,
    Update,
)
from members.models import EqualityMonitoring, User

SCALE_PASSWORD = "convene-scale-password"
DAY = timedelta(days=1)
HISTORY_DAYS = 3 * 365

DEFAULTS = {
    "members": 100_000,
    "ideas": 50_000,
    "supports": 500_000,
    "comments": 50_000,
    "sessions": 2_000,
    "registrations": 50_000,
    "responses": 20_000,
    "updates": 2_000,
    "claims": 10_000,
}

FIRST = (
    "Aisha Ben Chloe Dev Ella Femi Grace Hamza Iris Jack Kiran Leah Mo Nia Owen Priya Quinn "
    "Rosa Sam Tariq Uma Vic Wen Xander Yusuf Zara Amir Beth Carys Dafydd Ebony Finn Gita "
    "Hugo Imani Joel Kofi Lena Malik Nora"
).split()
LAST = (
    "Ahmed Brown Clarke Davies Evans Fraser Green Hughes Islam Jones Khan Lewis Morgan Nwosu "
    "Owusu Patel Quinn Roberts Singh Taylor Usman Vaughan Walker Xu Young Zhang Begum Cole "
    "Dias Ellis Foster Gray Hall Iqbal James Kaur Lee Mensah Novak Okoro"
).split()
THEMES = (
    "Access to appointments", "Communication", "Clinic letters", "Waiting times", "Transport",
    "Mental health", "Diet and nutrition", "Medicines", "Carers", "Digital services",
    "Young people", "Staff and training",
)  # fmt: skip
DOINGS = (
    "Send", "Offer", "Explain", "Shorten", "Make", "Publish", "Bring back", "Train staff on",
    "Give people a choice of", "Ask patients about",
)  # fmt: skip
THINGS = (
    "clinic letters before the appointment", "evening appointments", "a named nurse contact",
    "plain English results", "phone appointments", "parking at the hospital",
    "a quiet waiting room", "interpreters", "home blood tests", "a carers' drop-in",
    "online booking", "text reminders", "the helpline's hours", "peer support groups",
)  # fmt: skip
SAYINGS = (
    "I agree, this happened to me too.", "Could this work for carers as well?",
    "We tried something like this at our surgery and it helped.",
    "Please think about people without a smartphone.", "Yes! This would make a big difference.",
    "How would this be paid for?", "My mum waited weeks for this last year.",
)  # fmt: skip

IDEA_STATUSES = [
    (Idea.Status.NEW, 0.49),
    (Idea.Status.CONSIDERING, 0.15),
    (Idea.Status.PRIORITISED, 0.07),
    (Idea.Status.IN_PROGRESS, 0.05),
    (Idea.Status.DONE, 0.05),
    (Idea.Status.NOT_TAKEN_FORWARD, 0.13),
    (Idea.Status.MERGED, 0.06),
]
MEMBERSHIP_STATUSES = [
    (Membership.Status.ACTIVE, 0.94),
    (Membership.Status.REQUESTED, 0.02),
    (Membership.Status.INVITED, 0.01),
    (Membership.Status.LEFT, 0.015),
    (Membership.Status.REMOVED, 0.005),
    (Membership.Status.DECLINED, 0.01),
]
CLAIM_STATUSES = [
    (Claim.Status.SUBMITTED, 0.10),
    (Claim.Status.QUERIED, 0.03),
    (Claim.Status.APPROVED, 0.20),
    (Claim.Status.PAID, 0.60),
    (Claim.Status.REJECTED, 0.04),
    (Claim.Status.WITHDRAWN, 0.03),
]
# The busy member's inputs, each capped at a share of the whole so tiny sizes still work.
BUSY = {"ideas": 120, "supports": 1000, "comments": 350, "registrations": 320}


def domain(slug: str) -> str:
    return f"{slug}.example.org"


def coordinator_email(slug: str) -> str:
    return f"coordinator@{domain(slug)}"


def busy_email(slug: str) -> str:
    return f"busy@{domain(slug)}"


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


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
                if existing:
                    _delete(existing)
                people.delete()
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


class Generator:
    def __init__(self, *, slug: str, seed: int, sizes: dict, out):
        self.slug, self.sizes, self.out = slug, sizes, out
        self.rng = random.Random(seed)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.now = today
        self.start = today - HISTORY_DAYS * DAY
        self.rows = RowWriter(now=today)
        self.lap = time.monotonic()

    # --- helpers ------------------------------------------------------------------------

    def step(self, what: str) -> None:
        now = time.monotonic()
        self.out.write(f"  {what:<44} {now - self.lap:6.1f} s")
        self.lap = now

    def when(self, after: datetime | None = None, before: datetime | None = None) -> datetime:
        """A moment between two others (the start of the history and today by default)."""
        low, high = after or self.start, before or self.now
        if high <= low:
            return low
        seconds = (high - low).total_seconds()
        return low + timedelta(seconds=int(self.rng.random() * seconds))

    def uid(self, index: int) -> int:
        return self.user_ids[index]

    # --- the run ------------------------------------------------------------------------

    def run(self) -> None:
        self.community_and_people()
        self.step("community, people and memberships")
        self.sessions()
        self.step("sessions, registrations and attendance")
        self.survey()
        self.step("survey, responses and answers")
        self.ideas()
        self.step("ideas, decisions and merges")
        self.supports_and_comments()
        self.step("supports and comments")
        self.updates()
        self.step("updates")
        self.project()
        self.step("project, measures and cycles")
        self.claims()
        self.step("rates and claims")
        self.rows.finish()
        self.step("sequences and statistics")

    def community_and_people(self) -> None:
        rng, n = self.rng, self.sizes["members"]
        community = Community.objects.create(
            slug=self.slug,
            name="Scale Community",
            purpose="A generated community the size of a large care board's panel.",
            description="Generated by `manage.py scale_data` for measuring speed.",
            ground_rules="Be kind. Challenge ideas, not people.",
            join_policy=Community.JoinPolicy.APPROVAL,
        )
        Community.objects.filter(pk=community.pk).update(created_at=self.start)
        community.ensure_default_involvement_options()
        partner, _ = PartnerOrganisation.objects.get_or_create(
            name="Scale Voluntary Action", defaults={"kind": PartnerOrganisation.Kind.VOLUNTARY}
        )
        community.partners.add(partner)
        self.community, self.partner = community, partner
        self.options = list(InvolvementOption.objects.filter(community=community))

        self.user_ids = list(self.rows.ids(User, n))
        self.coordinators = {0, 2}
        self.busy = 1
        self.partners = set(range(3, 3 + max(1, n // 5000)))
        password = make_password(SCALE_PASSWORD)
        statuses, users = [], []
        for i in range(n):
            status = Membership.Status.ACTIVE
            if i >= 3 + len(self.partners):
                status = _pick(rng, MEMBERSHIP_STATUSES)
            erased = status == Membership.Status.LEFT and rng.random() < 0.1
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if i == 0:
                email, name = coordinator_email(self.slug), "Cora Scale"
            elif i == 1:
                email, name = busy_email(self.slug), "Bea Busy"
            elif erased:
                email = f"erased-{self.slug}-{i}@invalid.invalid"
            else:
                email = f"person{i}@{domain(self.slug)}"
            channel = rng.choices(["email", "post", "phone"], [0.97, 0.02, 0.01])[0]
            joined = self.when()
            users.append(
                (
                    self.uid(i), email, "" if erased else name,
                    password if i < 2 else f"!{rng.getrandbits(128):032x}",
                    channel, "" if channel != "phone" else f"0114 496 {i % 10000:04d}",
                    "" if channel != "post" else f"{i % 300 + 1} Long Road\nSheffield",
                    not erased, joined, joined if erased else None,
                )
            )  # fmt: skip
            statuses.append((status, joined))
        self.rows.write(
            User,
            ["id", "email", "name", "password", "contact_channel", "phone", "postal_address",
             "is_active", "date_joined", "erased_at"],
            users,
        )  # fmt: skip
        EmailAddress.objects.bulk_create(
            EmailAddress(user_id=self.uid(i), email=users[i][1], verified=True, primary=True)
            for i in (0, 1)
        )
        self.active = [i for i, (status, _at) in enumerate(statuses) if status == "active"]
        self.joined = [at for _status, at in statuses]
        self._memberships(statuses)
        self._equality(n)

    def _memberships(self, statuses) -> None:
        rng = self.rng
        ids = list(self.rows.ids(Membership, len(statuses)))
        self.membership_ids = ids
        rows, perspectives, involvement = [], [], []
        kinds = [p.value for p in Perspective]
        for i, (status, joined) in enumerate(statuses):
            role = Membership.Role.MEMBER
            if i in self.coordinators:
                role = Membership.Role.COORDINATOR
            elif i in self.partners:
                role = Membership.Role.PARTNER
            active = status == Membership.Status.ACTIVE
            decided = status in ("active", "declined", "left", "removed") and i % 3 == 0
            rows.append(
                (
                    ids[i], self.community.pk, self.uid(i), role, status,
                    "I would like to help." if status == "requested" else "",
                    self.uid(0) if decided else None, joined if decided else None,
                    1 if active else None, joined if active else None, joined,
                    joined if status in ("active", "left", "removed") else None, joined,
                )
            )  # fmt: skip
            for kind in rng.sample(kinds, rng.choice((1, 1, 2))):
                perspectives.append((ids[i], kind))
            for option in rng.sample(self.options, rng.choice((1, 2))):
                involvement.append((ids[i], option.pk))
        self.rows.write(
            Membership,
            ["id", "community_id", "user_id", "role", "status", "request_message",
             "decided_by_id", "decided_at", "rules_version_agreed", "rules_agreed_at",
             "created_at", "joined_at", "status_changed_at"],
            rows,
        )  # fmt: skip
        self.rows.write(MembershipPerspective, ["membership_id", "perspective"], perspectives)
        self.rows.write(
            Membership.involvement.through, ["membership_id", "involvementoption_id"], involvement
        )

    def _equality(self, n: int) -> None:
        rng = self.rng
        fields = ["age_band", "ethnic_group", "sex", "gender_same_as_birth", "disability"]
        choices = {
            f: [value for value, _label in EqualityMonitoring._meta.get_field(f).flatchoices]
            for f in fields
        }
        districts = ["S1", "S2", "S5", "S10", "S11", "S35", ""]
        rows = [
            (self.uid(i), self.joined[i], *(rng.choice(choices[f]) for f in fields),
             rng.choice(districts))
            for i in self.active
            if rng.random() < 0.3
        ]  # fmt: skip
        self.rows.write(EqualityMonitoring, ["user_id", "consented_at", *fields, "postcode_district"],
                        rows)  # fmt: skip

    # --- sessions -----------------------------------------------------------------------

    def sessions(self) -> None:
        rng, n = self.rng, self.sizes["sessions"]
        c = self.community
        venues = [
            Venue(community=c, name=f"Venue {i + 1}", kind=kind, address=f"{i + 1} High Street",
                  step_free=i % 2 == 0, hearing_loop=i % 3 == 0)
            for i, kind in enumerate(["community_centre", "library", "faith", "health", "online"]
                                     * 2)
        ]  # fmt: skip
        Venue.objects.bulk_create(venues)
        ids = list(self.rows.ids(Session, n))
        self.session_ids = ids
        self.session_start, self.session_end, self.session_status = [], [], []
        self.session_capacity = []
        rows = []
        for i in range(n):
            upcoming = rng.random() < 0.15
            if upcoming:
                starts = self.now + timedelta(days=rng.randint(1, 180), hours=rng.randint(9, 18))
                status = _pick(rng, [("published", 0.9), ("draft", 0.07), ("cancelled", 0.03)])
            else:
                starts = self.when(before=self.now - DAY)
                status = _pick(rng, [("completed", 0.9), ("cancelled", 0.05), ("published", 0.05)])
            ends = starts + timedelta(minutes=rng.choice((90, 120, 150, 180)))
            drop_in = rng.random() < 0.1
            capacity = None if drop_in else rng.randint(20, 80)
            venue = rng.choice(venues)
            walk_ins = rng.randint(0, 12) if status == "completed" else 0
            seen = sorted(rng.sample(["patient", "carer", "staff", "other"], min(walk_ins, 2)))
            rows.append(
                (
                    ids[i], c.pk, f"{rng.choice(['Listening', 'Co-design', 'Drop-in', 'Focus'])} "
                    f"session {i + 1}", "Come and tell us what matters to you.",
                    rng.choice(Session.Kind.values), starts, ends, venue.pk,
                    "https://meet.example.org/scale" if venue.kind == "online" else "",
                    self.partner.pk if i % 7 == 0 else None, capacity, not drop_in,
                    i % 4 == 0, True, i % 5 == 0, False, "English", status, walk_ins, seen,
                    "", starts - 30 * DAY, min(ends, self.now),
                )
            )  # fmt: skip
            self.session_start.append(starts)
            self.session_end.append(ends)
            self.session_status.append(status)
            self.session_capacity.append(capacity if not drop_in else 0)
        self.rows.write(
            Session,
            ["id", "community_id", "title", "description", "kind", "starts_at", "ends_at",
             "venue_id", "online_link", "host_id", "capacity", "registration_required",
             "offers_payment", "offers_refreshments", "offers_travel", "offers_childcare",
             "languages", "status", "walk_in_count", "walk_in_perspectives", "attendance_notes",
             "created_at", "updated_at"],
            rows,
        )  # fmt: skip
        self.past_sessions = [i for i in range(n) if self.session_status[i] == "completed"]
        self._key_points()
        self._registrations()

    def _key_points(self) -> None:
        ids = list(self.rows.ids(KeyPoint, 2 * len(self.past_sessions)))
        self.key_points = []  # (key point id, session index)
        rows = []
        for n, i in enumerate(self.past_sessions):
            for k in range(2):
                kp = ids[2 * n + k]
                self.key_points.append((kp, i))
                rows.append((kp, self.session_ids[i], f"People said {THINGS[(i + k) % 14]} "
                             "would help.", self.uid(0), self.session_end[i]))  # fmt: skip
        self.rows.write(KeyPoint, ["id", "session_id", "text", "created_by_id", "created_at"],
                        rows)  # fmt: skip

    def _registrations(self) -> None:
        rng, wanted = self.rng, self.sizes["registrations"]
        open_sessions = [
            i for i, status in enumerate(self.session_status)
            if status in ("published", "completed", "cancelled") and self.session_capacity[i]
        ]  # fmt: skip
        self.attended: dict[int, list[int]] = {}  # session index -> people who came
        self.came_by_person: dict[int, list[int]] = {}
        rows, seen, taken = [], set(), dict.fromkeys(open_sessions, 0)
        came_to = [i for i in self.past_sessions if self.session_capacity[i]]
        busy_count = min(BUSY["registrations"], wanted // 10, len(came_to))
        busy_sessions = rng.sample(came_to, busy_count)
        picks = iter([(i, self.busy) for i in busy_sessions])
        attempts = 0
        while len(rows) < wanted and open_sessions and attempts < wanted * 5:
            attempts += 1
            session, person = next(picks, None) or (
                rng.choice(open_sessions),
                rng.choice(self.active),
            )
            if (session, person) in seen:
                continue
            status = self.session_status[session]
            full = taken[session] >= self.session_capacity[session]
            past = self.session_start[session] < self.now
            if status == "cancelled":
                state = "cancelled"
            elif full and past:
                continue
            elif full:
                state = "waiting"
            else:
                state = "cancelled" if rng.random() < 0.05 and person != self.busy else "registered"
            seen.add((session, person))
            came = None
            if state == "registered":
                taken[session] += 1
                if status == "completed":
                    came = person == self.busy or rng.random() < 0.8
                    if came:
                        self.attended.setdefault(session, []).append(person)
                        self.came_by_person.setdefault(person, []).append(session)
            queued = self.when(self.session_start[session] - 30 * DAY,
                               min(self.session_start[session], self.now))  # fmt: skip
            rows.append((self.session_ids[session], self.uid(person), state, [], queued, queued,
                         came))  # fmt: skip
        self.rows.write(
            Registration,
            ["session_id", "user_id", "status", "access_requirements", "created_at", "queued_at",
             "attended"],
            rows,
        )  # fmt: skip
        self.busy_registrations = sum(1 for s, p in seen if p == self.busy)

    # --- the survey ---------------------------------------------------------------------

    def survey(self) -> None:
        rng, n = self.rng, self.sizes["responses"]
        c = self.community
        opens, closes = self.now - 400 * DAY, self.now - 30 * DAY
        survey = Survey.objects.create(
            community=c, title="Your experience of the IBD service", published=True,
            introduction="Ten minutes. Tell us what works and what does not.",
            opens_at=opens, closes_at=closes, allow_anonymous=True,
        )  # fmt: skip
        Survey.objects.create(
            community=c, title="Evening clinics: would you come?", published=True,
            opens_at=self.now - 5 * DAY, closes_at=self.now + 20 * DAY,
        )  # fmt: skip
        self.survey_obj = survey
        kinds = ["single", "multiple", "rating", "yes_no", "long_text"]
        questions = Question.objects.bulk_create(
            Question(survey=survey, text=text, kind=kind, position=i, required=kind != "long_text")
            for i, (text, kind) in enumerate(zip(
                ["How did you last book an appointment?", "What would help most?",
                 "How good was your last appointment?", "Did you get your letter in time?",
                 "What one thing should we change?"], kinds, strict=True))
        )  # fmt: skip
        choices = {}
        for question, options in zip(
            questions[:2],
            [["Phone", "Online", "Letter", "In person", "Someone booked for me"],
             ["Evening clinics", "Text reminders", "A named nurse", "Plain English letters",
              "Parking", "Interpreters"]],
            strict=False,
        ):  # fmt: skip
            choices[question.pk] = [
                c.pk for c in Choice.objects.bulk_create(
                    Choice(question=question, text=text, position=i)
                    for i, text in enumerate(options)
                )
            ]  # fmt: skip
        people = rng.sample(self.active, min(n, len(self.active)))
        if self.busy not in people and people:
            people[0] = self.busy
        ids = list(self.rows.ids(Response, n))
        answer_ids = iter(self.rows.ids(Answer, 5 * n))
        responses, participations, answers, picked = [], [], [], []
        self.named_responses = []  # (response id, person, long answer id)
        self.participants = []
        for r in range(n):
            kind = "paper" if r % 20 == 19 else ("anonymous" if r % 5 == 4 else "named")
            person = people[r] if r < len(people) and kind != "paper" else None
            if person is None and kind != "paper":
                kind = "paper"
            made = self.when(opens, closes)
            paper = kind == "paper"
            contact = rng.choice(["", "email", "phone", "post"]) if paper else ""
            responses.append(
                (ids[r], survey.pk, self.uid(person) if kind == "named" else None, made, made,
                 self.uid(0) if paper else None, f"Paper form {r}" if paper else "", contact,
                 {"email": f"paper{r}@example.net", "phone": "0114 496 0000",
                  "post": "1 Paper Lane, Sheffield"}.get(contact, ""))
            )  # fmt: skip
            if person is not None:
                participations.append((survey.pk, self.uid(person)))
                self.participants.append(person)
            long_answer = None
            for question in questions:
                if question.kind == "long_text" and rng.random() < 0.4:
                    continue
                aid = next(answer_ids)
                text, number = "", None
                if question.kind == "single":
                    picked.append((aid, rng.choice(choices[question.pk])))
                elif question.kind == "multiple":
                    for choice in rng.sample(choices[question.pk], rng.randint(1, 3)):
                        picked.append((aid, choice))
                elif question.kind == "rating":
                    number = rng.randint(1, 5)
                elif question.kind == "yes_no":
                    text = rng.choice(["yes", "yes", "no"])
                else:
                    text = f"Please {rng.choice(DOINGS).lower()} {rng.choice(THINGS)}."
                    long_answer = aid
                answers.append((aid, ids[r], question.pk, text, number))
            if kind == "named" and long_answer:
                self.named_responses.append((ids[r], person, long_answer))
        self.rows.write(
            Response,
            ["id", "survey_id", "user_id", "created_at", "updated_at", "entered_by_id",
             "on_behalf_of", "contact_by", "contact_details"],
            responses,
        )  # fmt: skip
        self.rows.write(Participation, ["survey_id", "user_id"], participations)
        self.rows.write(Answer, ["id", "response_id", "question_id", "text", "number"], answers)
        self.rows.write(Answer.choices.through, ["answer_id", "choice_id"], picked)

    # --- ideas --------------------------------------------------------------------------

    def ideas(self) -> None:
        rng, n = self.rng, self.sizes["ideas"]
        c = self.community
        themes = Theme.objects.bulk_create(
            Theme(community=c, name=name, position=i) for i, name in enumerate(THEMES)
        )
        ids = list(self.rows.ids(Idea, n))
        self.idea_ids = ids
        self.idea_status, self.idea_created, self.idea_author = [], [], []
        self.idea_decided: list[datetime | None] = []
        self.idea_session, self.idea_response = [], []
        busy_ideas = set(rng.sample(range(n), min(BUSY["ideas"], n // 20)))
        self.idea_extra: dict[int, set[int]] = {}  # people whose answer or coming it holds
        rows, themed, events, decisions = [], [], [], []
        merged = []
        for i in range(n):
            status = _pick(rng, IDEA_STATUSES)
            if status == Idea.Status.MERGED and i < 10:
                status = Idea.Status.NEW  # the first ideas are merge targets
            created = self.when(before=self.now - DAY)
            origin = "online" if i in busy_ideas else rng.choices(
                ["online", "session", "survey", "paper"], [0.91, 0.05, 0.02, 0.02])[0]  # fmt: skip
            author = entered = session = key_point = survey = answer = response = None
            on_behalf, contact_by, contact = "", "", ""
            if origin == "session" and self.key_points:
                key_point, s = rng.choice(self.key_points)
                session, entered = s, 0
                self.idea_extra[i] = set(self.attended.get(s, []))
                created = self.when(self.session_end[s], self.session_end[s] + 20 * DAY)
                on_behalf = "People at the session"
            elif origin == "survey" and self.named_responses:
                response, person, answer = rng.choice(self.named_responses)
                self.idea_extra[i] = {person}
                survey, entered = self.survey_obj.pk, 0
                created = self.when(self.survey_obj.closes_at, self.now - DAY)
            elif origin == "paper":
                entered, on_behalf = 0, f"{rng.choice(FIRST)} at the Firth Park drop-in"
                contact_by = rng.choice(["", "email", "phone", "post"])
                contact = {"email": f"paper-idea{i}@example.net", "phone": "0114 496 0101",
                           "post": "2 Paper Lane, Sheffield"}.get(contact_by, "")  # fmt: skip
            else:
                origin = "online"
                author = self.busy if i in busy_ideas else rng.choice(self.active)
            created = min(created, self.now - DAY)
            self.idea_status.append(status)
            self.idea_created.append(created)
            self.idea_author.append(author)
            self.idea_session.append(session)
            self.idea_response.append(response)
            decided_at, changed = self._decide(i, status, created, decisions, events)
            self.idea_decided.append(decided_at)
            if status == Idea.Status.MERGED:
                merged.append(i)
            rows.append(
                [ids[i], c.pk, f"{rng.choice(DOINGS)} {rng.choice(THINGS)}",
                 f"It would help people like me if we could {rng.choice(THINGS)}. Idea {i + 1}.",
                 origin, self.session_ids[session] if session is not None else None, key_point,
                 survey, answer, response,
                 self.uid(author) if author is not None else None,
                 self.uid(entered) if entered is not None else None, on_behalf, contact_by,
                 contact, status, changed, None, decided_at, created, max(changed, created)]
            )  # fmt: skip
            for theme in rng.sample(themes, rng.choice((1, 1, 2))):
                themed.append((ids[i], theme.pk))
            events.append((ids[i], IdeaEvent.Kind.CREATED, self.uid(author if author is not None
                           else 0), created, Idea.Status.NEW, None, ""))  # fmt: skip
        self._merge(merged, rows, events)
        self.rows.write(
            Idea,
            ["id", "community_id", "title", "description", "source", "session_id",
             "key_point_id", "survey_id", "survey_answer_id", "survey_response_id", "author_id",
             "entered_by_id", "on_behalf_of", "contact_by", "contact_details", "status",
             "status_changed_at", "merged_into_id", "decided_at", "created_at", "updated_at"],
            rows,
        )  # fmt: skip
        self.rows.write(Idea.themes.through, ["idea_id", "theme_id"], themed)
        self.rows.write(
            Decision, ["idea_id", "outcome", "reason", "decided_by_id", "decided_at"], decisions
        )
        self.events = events
        self.busy_ideas = sum(1 for author in self.idea_author if author == self.busy)

    def _decide(self, i, status, created, decisions, events) -> tuple[datetime | None, datetime]:
        """The decisions an idea with this status had, and when its status last changed."""
        rng, coordinator = self.rng, self.uid(0)
        outcome = {
            Idea.Status.PRIORITISED: rng.choice(["adopt", "adopt", "adapt"]),
            Idea.Status.IN_PROGRESS: "adopt",
            Idea.Status.DONE: "adopt",
            Idea.Status.NOT_TAKEN_FORWARD: "not_taken_forward",
            Idea.Status.CONSIDERING: "not_now" if rng.random() < 0.5 else None,
        }.get(status)
        if outcome is None:
            changed = created if status == Idea.Status.NEW else self.when(created)
            if status == Idea.Status.CONSIDERING:
                events.append((self.idea_ids[i], IdeaEvent.Kind.STATUS, coordinator, changed,
                               status, None, ""))  # fmt: skip
            return None, changed
        decided = self.when(created, min(created + 200 * DAY, self.now))
        reason = {
            "adopt": "We agree, and the clinic team has the time to do it.",
            "adapt": "We will do part of this, within the budget we have.",
            "not_now": "A good idea; we will look at it again next year.",
            "not_taken_forward": "The hospital cannot change this, but we have passed it on.",
        }[outcome]
        if outcome != "not_now" and rng.random() < 0.1:
            earlier = self.when(created, decided)
            decisions.append((self.idea_ids[i], "not_now", reason, coordinator, earlier))
        decisions.append((self.idea_ids[i], outcome, reason, coordinator, decided))
        label = dict(Decision.Outcome.choices)[outcome]
        shown = Idea.Status.PRIORITISED if outcome in ("adopt", "adapt") else status
        events.append((self.idea_ids[i], IdeaEvent.Kind.DECIDED, coordinator, decided, shown,
                       None, f"{label}: {reason}"))  # fmt: skip
        changed = decided
        if status in (Idea.Status.IN_PROGRESS, Idea.Status.DONE):
            for step in [Idea.Status.IN_PROGRESS, Idea.Status.DONE][
                : 1 if status == Idea.Status.IN_PROGRESS else 2
            ]:
                changed = self.when(changed, min(changed + 60 * DAY, self.now))
                events.append((self.idea_ids[i], IdeaEvent.Kind.STATUS, coordinator, changed,
                               step, None, ""))  # fmt: skip
        return decided, changed

    def _merge(self, merged, rows, events) -> None:
        """Point each merged idea at an earlier idea that stands on its own."""
        rng, coordinator = self.rng, self.uid(0)
        standing = [i for i, s in enumerate(self.idea_status) if s != Idea.Status.MERGED]
        self.merged_into = {}
        self.merged_from: dict[int, list[int]] = {}
        for i in merged:
            target = rng.choice(standing)
            at = self.when(max(self.idea_created[i], self.idea_created[target]))
            self.merged_into[i] = target
            self.merged_from.setdefault(target, []).append(i)
            rows[i][17] = self.idea_ids[target]
            rows[i][16] = at
            rows[i][20] = at
            events.append(
                (
                    self.idea_ids[i],
                    IdeaEvent.Kind.MERGED_INTO,
                    coordinator,
                    at,
                    Idea.Status.MERGED,
                    self.idea_ids[target],
                    "The same idea.",
                )
            )
            events.append((self.idea_ids[target], IdeaEvent.Kind.MERGED_FROM, coordinator, at,
                           "", self.idea_ids[i], "The same idea."))  # fmt: skip
        self.standing = standing

    # --- supports and comments ----------------------------------------------------------

    def supports_and_comments(self) -> None:
        rng = self.rng
        standing = self.standing
        weights = [min(rng.paretovariate(1.2), 400.0) for _ in standing]
        self.contributors: dict[int, set[int]] = {}  # idea index -> people
        for i, author in enumerate(self.idea_author):
            if author is not None:
                self.contributors.setdefault(self.merged_into.get(i, i), set()).add(author)
        for i, people in self.idea_extra.items():
            self.contributors.setdefault(self.merged_into.get(i, i), set()).update(people)
        wanted = self.sizes["supports"]
        busy_count = min(BUSY["supports"], wanted // 20, len(standing))
        picks = [(i, self.busy) for i in rng.sample(standing, busy_count)]
        seen, rows = set(), []
        for _round in range(20):  # popular ideas draw repeats: draw again for what is missing
            for idea, person in picks:
                if len(rows) >= wanted or (idea, person) in seen:
                    continue
                seen.add((idea, person))
                self.contributors.setdefault(idea, set()).add(person)
                rows.append(
                    (self.idea_ids[idea], self.uid(person), self.when(self.idea_created[idea]))
                )
            more = int((wanted - len(rows)) * 1.1) + 10
            if len(rows) >= wanted or not standing:
                break
            picks = zip(
                rng.choices(standing, weights, k=more),
                rng.choices(self.active, k=more),
                strict=True,
            )
        self.rows.write(Support, ["idea_id", "user_id", "created_at"], rows)
        self.busy_supports = sum(1 for _idea, person in seen if person == self.busy)
        self._comments(weights)

    def _comments(self, weights) -> None:
        rng, wanted = self.rng, self.sizes["comments"]
        standing = self.standing
        moved_from = self.merged_from
        busy_count = min(BUSY["comments"], wanted // 10)
        busy_ideas = rng.sample(standing, min(len(standing), max(1, busy_count * 5 // 7)))
        picks = [(rng.choice(busy_ideas), self.busy) for _ in range(busy_count)]
        picks += zip(
            rng.choices(standing, weights, k=wanted - busy_count),
            rng.choices(self.active, k=wanted - busy_count),
            strict=True,
        )
        ids = list(self.rows.ids(Comment, len(picks)))
        rows = []
        for n, (idea, person) in enumerate(picks):
            at = self.when(self.idea_created[idea])
            hidden = rng.random() < 0.01 and person != self.busy
            source = None
            if idea in moved_from and rng.random() < 0.3:
                source = self.idea_ids[rng.choice(moved_from[idea])]
            self.contributors.setdefault(idea, set()).add(person)
            rows.append(
                (ids[n], self.idea_ids[idea], source, self.uid(person), rng.choice(SAYINGS), at,
                 at if hidden else None, self.uid(0) if hidden else None,
                 "It named a member of staff." if hidden else "")
            )  # fmt: skip
        self.rows.write(
            Comment,
            ["id", "idea_id", "moved_from_id", "author_id", "text", "created_at", "hidden_at",
             "hidden_by_id", "hidden_reason"],
            rows,
        )  # fmt: skip
        reports = {}
        for n in rng.sample(range(len(ids)), min(40, len(ids))):
            reporter = rng.choice(self.active)
            reports[(ids[n], reporter)] = (ids[n], self.uid(reporter), "This is unkind.",
                                           rows[n][5])  # fmt: skip
        self.rows.write(
            CommentReport, ["comment_id", "reporter_id", "reason", "created_at"], reports.values()
        )
        self.busy_comments = sum(1 for _idea, person in picks if person == self.busy)
        self.busy_commented = len({idea for idea, person in picks if person == self.busy})

    # --- updates ------------------------------------------------------------------------

    def updates(self) -> None:
        rng, n = self.rng, self.sizes["updates"]
        decided = [i for i in self.standing if self.idea_decided[i] is not None]
        if not decided:
            decided = list(self.standing)
        ids = list(self.rows.ids(Update, n))
        rows, idea_links, session_links, survey_links = [], [], [], []
        events = self.events
        for u in range(n):
            ideas = rng.sample(decided, min(len(decided), rng.choice((1, 1, 2, 2, 3, 4, 5, 6))))
            sessions = []
            if self.attended and rng.random() < 0.2:
                sessions = [rng.choice(list(self.attended))]
            surveys = [self.survey_obj.pk] if u % 500 == 7 else []
            ready = [self.idea_decided[i] or self.idea_created[i] for i in ideas]
            ready += [self.session_end[s] for s in sessions]
            ready += [self.survey_obj.closes_at for _ in surveys]
            earliest = max(ready, default=self.start)
            published = rng.random() < 0.95
            at = self.when(earliest, min(earliest + 60 * DAY, self.now)) if published else None
            told = set()
            for i in ideas:
                told |= self.contributors.get(i, set())
            for s in sessions:
                told |= set(self.attended.get(s, []))
            if surveys:
                told |= set(self.participants)
            rows.append(
                (ids[u], self.community.pk, f"You said, we did: {rng.choice(THINGS)}",
                 "Many of you told us this was hard.", "We changed how the clinic works.",
                 "We will check in three months.", "published" if published else "draft",
                 self.uid(0), at or self.now, at or self.now, at,
                 self.uid(0) if published else None, len(told) if published else 0)
            )  # fmt: skip
            idea_links += [(ids[u], self.idea_ids[i]) for i in ideas]
            session_links += [(ids[u], self.session_ids[s]) for s in sessions]
            survey_links += [(ids[u], s) for s in surveys]
            if published:
                events += [(self.idea_ids[i], IdeaEvent.Kind.UPDATED, self.uid(0), at,
                            self.idea_status[i], None, rows[-1][2]) for i in ideas]  # fmt: skip
        self.rows.write(
            Update,
            ["id", "community_id", "title", "what_we_heard", "what_we_did", "what_next",
             "status", "created_by_id", "created_at", "updated_at", "published_at",
             "published_by_id", "told_count"],
            rows,
        )  # fmt: skip
        self.rows.write(Update.ideas.through, ["update_id", "idea_id"], idea_links)
        self.rows.write(Update.sessions.through, ["update_id", "session_id"], session_links)
        self.rows.write(Update.surveys.through, ["update_id", "survey_id"], survey_links)
        self.rows.write(
            IdeaEvent, ["idea_id", "kind", "actor_id", "at", "status", "other_idea_id", "note"],
            events,
        )  # fmt: skip

    # --- a project ----------------------------------------------------------------------

    def project(self) -> None:
        rng = self.rng
        lead = User.objects.get(pk=self.uid(0))
        working = [
            self.idea_ids[i] for i in self.standing
            if self.idea_status[i] in (Idea.Status.IN_PROGRESS, Idea.Status.DONE)
        ][:20]  # fmt: skip
        project = Project.objects.create(
            community=self.community, title="Clinic letters before the appointment",
            aim_what="People get their clinic letter before their appointment.",
            aim_how_much="from 40% to 90%", aim_by_when=(self.now + 180 * DAY).date(),
            status=Project.Status.TESTING, starts_on=(self.now - 320 * DAY).date(),
            driver_diagram="Letters sent on time\n  Typing capacity\n    Templates for "
            "common letters\n  Sending\n    Email letters to people who agree",
            created_by=lead, created_at=self.now - 330 * DAY,
        )  # fmt: skip
        project.ideas.set(working)
        TeamMember.objects.create(project=project, user=lead, role=TeamMember.Role.LEAD)
        for person in rng.sample(self.active[3:], min(4, len(self.active) - 3)):
            TeamMember.objects.create(project=project, user_id=self.uid(person))
        Project.objects.create(
            community=self.community, title="Evening clinics",
            aim_what="Working people can come to clinic.", aim_how_much="20 evening slots a "
            "month", aim_by_when=(self.now + 365 * DAY).date(), created_by=lead,
        )  # fmt: skip
        points = []
        specs = [
            ("Letters sent before the appointment", "%", Measure.Chart.RUN, 40.0, 90.0),
            ("Days from clinic to letter", "days", Measure.Chart.XMR, 14.0, 5.0),
            ("Calls to the helpline about letters", "calls", Measure.Chart.RUN, 60.0, 20.0),
        ]
        for position, (name, unit, chart, begin, end) in enumerate(specs):
            measure = Measure.objects.create(
                project=project, name=name, unit=unit, chart=chart, position=position,
                kind=Measure.Kind.OUTCOME if position == 0 else Measure.Kind.PROCESS,
                definition=f"{name}, counted each day from the clinic system.",
                higher_is_better=end > begin, target=end,
                baseline_until=(self.now - 280 * DAY).date() if chart == "run" else None,
                rebase_from=(self.now - 150 * DAY).date() if chart == "xmr" else None,
            )  # fmt: skip
            for day in range(300):
                share = day / 300
                value = begin + (end - begin) * share + rng.gauss(0, abs(end - begin) / 10)
                points.append((measure.pk, (self.now - (300 - day) * DAY).date(),
                               round(max(value, 0.0), 1), "", False))  # fmt: skip
        self.rows.write(DataPoint, ["measure_id", "when", "value", "note", "astronomical"], points)
        cycles = []
        for n in range(24):
            starts = (self.now - (320 - 13 * n) * DAY).date()
            finished = n < 22
            cycles.append(
                (project.pk, f"Test {n + 1}: {rng.choice(THINGS)}", "More letters on time.",
                 "Letters sent before the appointment.", "We tried it for a week." if finished
                 else "", "It helped a little." if finished else "",
                 rng.choice(["adopt", "adapt", "abandon"]) if finished else "", "",
                 starts, starts + 12 * DAY if finished else None, self.now - (320 - 13 * n) * DAY)
            )  # fmt: skip
        self.rows.write(
            Cycle,
            ["project_id", "change", "prediction", "measuring", "do", "study", "act",
             "act_notes", "starts_on", "ends_on", "created_at"],
            cycles,
        )  # fmt: skip
        self.project_obj = project

    # --- payments -----------------------------------------------------------------------

    def claims(self) -> None:
        rng, n = self.rng, self.sizes["claims"]
        c = self.community
        rates = {}
        for row in payments.suggested_rates():
            old, new = Decimal(row["amount"]), Decimal(row["amount"]) * Decimal("1.1")
            for valid_from, amount in ((self.start.date(), old),
                                       ((self.now - 365 * DAY).date(), new.quantize(Decimal("0.01")))):  # fmt: skip
                rate = Rate.objects.create(
                    community=c, activity=row["activity"], basis=row["basis"], amount=amount,
                    valid_from=valid_from,
                )  # fmt: skip
                rates.setdefault(row["activity"], []).append(rate)
        PaymentSettings.objects.create(
            community=c, budget=Decimal("250000"), threshold=Decimal("1000")
        )
        claimants = rng.sample(self.active, min(len(self.active), max(1, n // 5)))
        membership_of = {p: self.membership_ids[p] for p in claimants}
        choices = {}
        choice_rows = []
        for person in claimants:
            kind = rng.choices(["accept", "lower", "charity", "decline"], [0.8, 0.08, 0.05, 0.07])[
                0
            ]
            choice = PaymentChoice(
                choice=kind, lower_percent=50 if kind == "lower" else None,
                charity="Crohn's & Colitis UK" if kind == "charity" else "",
            )  # fmt: skip
            choices[person] = choice
            choice_rows.append((membership_of[person], kind, choice.lower_percent, choice.charity,
                                self.now))  # fmt: skip
        self.rows.write(
            PaymentChoice,
            ["membership_id", "choice", "lower_percent", "charity", "updated_at"],
            choice_rows,
        )  # fmt: skip
        roles = {}
        for person in claimants[:20]:
            roles[person] = PaidRole.objects.create(
                membership_id=membership_of[person], title="Delivery group member",
                hours_per_month=Decimal("8"), hourly_rate=Decimal("27.50"),
                starts_on=(self.now - 700 * DAY).date(),
            )  # fmt: skip
        ids = list(self.rows.ids(Claim, n))
        rows, expenses, claimed = [], [], set()
        for k in range(n):
            person = rng.choice(claimants)
            row = self._claim(person, choices[person], roles.get(person), rates, claimed)
            status = _pick(rng, CLAIM_STATUSES)
            made = datetime.combine(row["date"], datetime.min.time(), UTC) + DAY
            made = min(made, self.now)
            decided = status not in ("submitted", "queried", "withdrawn")
            paid = status == "paid"
            rows.append(
                (ids[k], c.pk, self.uid(person), row["kind"], row["session"], row["activity"],
                 row["role"], row["date"], row["hours"], row["rate"], row["amount"],
                 row["basis"], row["fee"], row["choice"].choice, row["choice"].payable(row["fee"]),
                 row["choice"].charity, status, row["not_attending"],
                 "Which meeting was this?" if status == "queried" else "",
                 "Not a paid activity." if status == "rejected" else "",
                 self.uid(0) if decided else None, made + DAY if decided else None,
                 (made + 10 * DAY).date() if paid else None, f"BACS-{k:06d}" if paid else "",
                 made, made + (DAY if decided else timedelta(0)))
            )  # fmt: skip
            if rng.random() < 0.3:
                expenses.append((ids[k], Expense.Kind.TRAVEL, "Bus fare",
                                 Decimal(rng.randint(2, 20)) + Decimal("0.50")))  # fmt: skip
        self.rows.write(
            Claim,
            ["id", "community_id", "claimant_id", "kind", "session_id", "activity",
             "paid_role_id", "date", "hours", "rate_id", "rate_amount", "rate_basis", "fee",
             "choice", "payable", "charity", "status", "not_recorded_as_attending", "question",
             "decision_reason", "decided_by_id", "decided_at", "paid_on", "payment_reference",
             "created_at", "status_changed_at"],
            rows,
        )  # fmt: skip
        self.rows.write(Expense, ["claim_id", "kind", "description", "amount"], expenses)

    def _claim(self, person, choice, role, rates, claimed) -> dict:
        """What one claim holds, worked out as `payments.submit_claim` would."""
        rng = self.rng
        came = [s for s in self.came_by_person.get(person, []) if (person, s) not in claimed]
        kind = rng.choices(["session", "meeting", "hours"], [0.5, 0.2, 0.3])[0]
        session, hours, not_attending = None, None, False
        if kind == "session" and came:
            s = rng.choice(came)
            claimed.add((person, s))
            session = self.session_ids[s]
            day = self.session_start[s].date()
            length = (self.session_end[s] - self.session_start[s]).total_seconds() / 3600
            hours = Decimal(str(length)).quantize(Decimal("0.01"))
            activity = Activity.SESSION
        else:
            day = self.when(self.now - 730 * DAY, self.now - DAY).date()
            if kind == "session":
                kind = "meeting"
            if kind == "meeting":
                activity = Activity.MEETING
            else:
                activity = Activity.ROLE if role and rng.random() < 0.5 else Activity.PREPARATION
                hours = Decimal(rng.choice(["1.00", "1.50", "2.00", "3.00"]))
        if activity == Activity.ROLE and day < role.starts_on:
            activity = Activity.PREPARATION
        if activity == Activity.ROLE:
            rate, basis, amount = None, Basis.HOUR, role.hourly_rate
        else:
            rate = [r for r in rates[activity] if r.valid_from <= day][-1]
            basis, amount = rate.basis, rate.amount
            if basis != Basis.HOUR and kind != "session":
                hours = None
        fee = payments.fee_for(basis=basis, amount=amount, hours=hours)
        return {
            "kind": kind, "session": session, "activity": activity, "date": day,
            "hours": hours, "rate": rate.pk if rate else None, "amount": amount, "basis": basis,
            "fee": fee, "choice": choice, "not_attending": not_attending,
            "role": role.pk if activity == Activity.ROLE else None,
        }  # fmt: skip

    # --- the summary --------------------------------------------------------------------

    def busy_inputs(self) -> dict[str, int]:
        return {
            "ideas": self.busy_ideas,
            "supports": self.busy_supports,
            "comments": self.busy_comments,
            "ideas commented on": self.busy_commented,
            "registrations": self.busy_registrations,
            "sessions came to": len(self.came_by_person.get(self.busy, [])),
        }

    def report(self, elapsed: float) -> None:
        out = self.out
        top = (
            Support.objects.filter(idea__community=self.community)
            .values("idea")
            .annotate(n=Count("pk"))
            .order_by("-n", "idea")
            .first()
        )
        out.write("")
        out.write(f"Rows written: {sum(self.rows.written.values()):,}")
        for label, count in sorted(self.rows.written.items()):
            out.write(f"  {label:<36} {count:>9,}")
        busy = self.busy_inputs()
        out.write(f"The busy member's inputs: {', '.join(f'{v:,} {k}' for k, v in busy.items())}")
        out.write(f"The {self.slug!r} community was made in {elapsed:.0f} s.")
        out.write(f"Logins (password: {SCALE_PASSWORD}):")
        out.write(f"  coordinator:  {coordinator_email(self.slug)}")
        out.write(f"  busy member:  {busy_email(self.slug)}")
        out.write(f"community:      /c/{self.slug}/")
        out.write(f"project:        {self.project_obj.pk}")
        out.write(f"survey:         {self.survey_obj.pk}")
        if top:
            out.write(f"idea:           {top['idea']} (the most supported, {top['n']:,})")
