"""What every part of the generator shares: sizes, names and words, and the helpers."""

import random
import time
from datetime import UTC, datetime, timedelta

from communities.models import Membership
from engagement.models import Claim
from improvement.models import Idea
from improvement.scale.rows import RowWriter

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


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class Base:
    """The generator's state and helpers. Everything is counted back from the start of
    today (UTC) and drawn from one seeded random generator, in a fixed order."""

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
