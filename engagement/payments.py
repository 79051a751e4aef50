"""Writes and reads about paying people: claims, their approval, rates, and the finance
figures. Each write is one transaction; the person is told through the outbox at each step."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from communities.access import get_membership, may_coordinate, refuse_if_archived
from communities.models import Community, Membership
from engagement.access import claim_deciders, may_change_own_claim, may_decide_claim
from engagement.models import (
    Activity,
    Basis,
    Claim,
    Expense,
    PaidRole,
    PaymentChoice,
    PaymentError,
    PaymentSettings,
    Rate,
    Registration,
    Session,
    tax_year_of,
)
from members import aggregates, revisions
from members.computed import computed, version_of
from members.models import User
from members.outbox import notify
from members.status import StatusError

HOURS_IN_A_DAY = Decimal("24")
DOUBLE_TAP = timedelta(minutes=2)


def community_today(community: Community) -> date:
    """Today as the community counts days (its own time zone, not the server's)."""
    return timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(community.time_zone)).date()


def fee_for(*, basis: str, amount: Decimal, hours: Decimal | None) -> Decimal:
    """What the time is worth at a rate: hours × the rate for an hourly rate, the rate itself
    for a half day, a day or an activity."""
    if basis == Basis.HOUR:
        return (amount * (hours or Decimal("0"))).quantize(Decimal("0.01"))
    return amount


def choice_of(membership: Membership | None) -> PaymentChoice:
    if membership is None:
        return PaymentChoice(choice=PaymentChoice.Choice.ACCEPT)
    try:
        return membership.payment_choice
    except PaymentChoice.DoesNotExist:
        return PaymentChoice(membership=membership, choice=PaymentChoice.Choice.ACCEPT)


def _session_hours(session: Session) -> Decimal:
    """The session's length in hours, to the nearest quarter hour."""
    seconds = Decimal((session.ends_at - session.starts_at).total_seconds())
    quarters = (seconds / 900).to_integral_value(rounding=ROUND_HALF_UP)
    return (quarters / 4).quantize(Decimal("0.01"))


# Time a claim on a non-hourly rate stands for, when counting hours in a day.
BASIS_HOURS = {Basis.HALF_DAY: Decimal("4"), Basis.DAY: Decimal("8"), Basis.ACTIVITY: Decimal("0")}


def _hours_already(claimant, day: date) -> Decimal:
    total = Decimal("0")
    for hours, basis in (
        Claim.objects.filter(claimant=claimant, date=day)
        .exclude(status__in=[Claim.Status.REJECTED, Claim.Status.WITHDRAWN])
        .values_list("hours", "rate_basis")
    ):
        total += hours if basis == Basis.HOUR else BASIS_HOURS.get(basis, hours or Decimal("0"))
    return total


@dataclass
class ClaimRequest:
    kind: str
    date: date | None = None
    session: Session | None = None
    activity: str = ""
    hours: Decimal | None = None
    description: str = ""
    paid_role: PaidRole | None = None


def _check_hours(claimant, day: date, basis: str, hours, kind: str):
    """The hours to keep on a claim, after checking the day holds no more than 24."""
    if basis == Basis.HOUR and not hours:
        raise PaymentError(_("Give the number of hours: this rate is paid by the hour."))
    per_hour = basis == Basis.HOUR or kind == Claim.Kind.SESSION
    counted = hours if per_hour else BASIS_HOURS.get(basis, Decimal("0"))
    if _hours_already(claimant, day) + (counted or Decimal("0")) > HOURS_IN_A_DAY:
        raise PaymentError(
            _("That would make more than 24 hours claimed on %(day)s.")
            % {"day": date_format(day, "j F Y")}
        )
    # Paid per half day, day or activity: the hours do not change the fee, so none are kept.
    return hours if per_hour else None


def _session_claim(community, claimant, request: ClaimRequest):
    """The day, hours and attendance flag of a claim for a session, after its checks."""
    session = request.session
    if session is None or session.community_id != community.pk:
        raise PaymentError(_("Choose the session you came to."))
    if session.starts_at > timezone.now():
        raise PaymentError(_("You can claim for a session once it has happened."))
    if (
        Claim.objects.filter(claimant=claimant, session=session)
        .exclude(status__in=[Claim.Status.REJECTED, Claim.Status.WITHDRAWN])
        .exists()
    ):
        raise PaymentError(_("There is already a claim for this session."))
    day = session.starts_at.astimezone(session.zone).date()  # the community's day
    hours = request.hours or _session_hours(session)
    if hours > _session_hours(session):
        raise PaymentError(
            _(
                "The session lasted %(length)s hours: claim up to that, and add preparation or "
                "travel time as a separate claim or expense."
            )
            % {"length": _session_hours(session).normalize()}
        )
    not_attending = not Registration.objects.filter(
        session=session, user=claimant, attended=True
    ).exists()
    return day, hours, not_attending


def _rate_for(
    community, activity: str, day: date, paid_role, membership=None
) -> tuple[Rate | None, str, Decimal]:
    if (
        paid_role is not None
        and membership is not None
        and paid_role.membership_id != membership.pk
    ):
        raise PaymentError(_("That paid role belongs to someone else."))
    if activity == Activity.ROLE and paid_role is not None:
        if day < paid_role.starts_on or (paid_role.ends_on and day > paid_role.ends_on):
            raise PaymentError(
                _("The role “%(role)s” was not held on %(day)s.")
                % {"role": paid_role.title, "day": date_format(day, "j F Y")}
            )
        return None, Basis.HOUR, paid_role.hourly_rate
    rate = Rate.objects.in_force(community=community, activity=activity, on=day)
    if rate is None:
        raise PaymentError(
            _(
                "There is no rate for “%(activity)s” on %(day)s yet, so this cannot be worked "
                "out. A coordinator adds rates under Manage, Payments, Rates; your claim is not "
                "lost, you can send it again then."
            )
            % {"activity": Activity(activity).label, "day": date_format(day, "j F Y")}
        )
    return rate, rate.basis, rate.amount


@transaction.atomic
def submit_claim(
    *,
    community: Community,
    claimant: User,
    by: User,
    request: ClaimRequest,
    expenses: list[dict],
) -> Claim:
    """Make a claim for time and expenses. A member claims for themselves; a coordinator may
    enter one for someone (a claim on paper). The rate in force on the day is copied onto
    the claim, and the person's choice (accept, less, charity, decline) applied. A claim for
    a session the person is not recorded as coming to is allowed and flagged; a second claim
    for one session is refused; no more than 24 hours in a day."""
    refuse_if_archived(community)
    # One claim at a time per person: the checks below (hours in a day, a repeat) then see
    # every claim made before.
    Membership.objects.select_for_update().filter(community=community, user=claimant).first()
    membership = get_membership(claimant, community)
    if by.pk != claimant.pk and not may_coordinate(by, community):
        raise PaymentError(_("Only coordinators can enter a claim for someone else."))
    if membership is None or not membership.is_active:
        raise PaymentError(_("Claims are for active members of the community."))
    day, activity, hours = request.date, request.activity, request.hours
    not_attending = False
    if request.kind == Claim.Kind.SESSION:
        day, hours, not_attending = _session_claim(community, claimant, request)
        activity = Activity.SESSION
    elif request.kind == Claim.Kind.MEETING:
        activity = Activity.MEETING
    if day is None:
        raise PaymentError(_("Give the date."))
    if day > community_today(community):
        raise PaymentError(_("You can claim for time once it has been spent."))
    rate, basis, amount = _rate_for(community, activity, day, request.paid_role, membership)
    hours = _check_hours(claimant, day, basis, hours, request.kind)
    repeat = (
        Claim.objects.filter(
            claimant=claimant,
            date=day,
            activity=activity,
            kind=request.kind,
            session=request.session if request.kind == Claim.Kind.SESSION else None,
            hours=hours,
            description=request.description.strip(),
            created_at__gte=timezone.now() - DOUBLE_TAP,
        )
        .exclude(status=Claim.Status.WITHDRAWN)
        .first()
    )
    if repeat is not None:
        return repeat  # the same claim sent twice in a moment: kept once
    fee = fee_for(basis=basis, amount=amount, hours=hours)
    choice = choice_of(membership)
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                community=community,
                claimant=claimant,
                entered_by=by if by.pk != claimant.pk else None,
                kind=request.kind,
                session=request.session if request.kind == "session" else None,
                activity=activity,
                paid_role=request.paid_role,
                date=day,
                hours=hours,
                description=request.description.strip(),
                rate=rate,
                rate_amount=amount,
                rate_basis=basis,
                fee=fee,
                choice=choice.choice,
                payable=choice.payable(fee),
                charity=choice.charity if choice.choice == PaymentChoice.Choice.CHARITY else "",
                not_recorded_as_attending=not_attending,
            )
    except IntegrityError:  # the same session claimed twice at once
        raise PaymentError(_("There is already a claim for this session.")) from None
    for row in expenses:
        Expense.objects.create(claim=claim, **row)
    notify(recipients=_deciders(claim), kind="claim_submitted", about=claim, community=community)
    return claim


def _locked(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update().select_related("community", "claimant").get(pk=claim.pk)
    )


def _deciders(claim: Claim) -> list[User]:
    """Who is told that a claim waits for them: see `claim_deciders`."""
    coordinators = (
        Membership.objects.coordinators()
        .filter(community_id=claim.community_id)
        .select_related("user")
    )
    return claim_deciders(claim, coordinators, User.objects.filter(is_staff=True, is_active=True))


def _check_decider(claim: Claim, by: User) -> None:
    """Refuse, saying why, anyone `may_decide_claim` does not allow."""
    if may_decide_claim(by, claim):
        return
    if by.pk == claim.claimant_id:
        raise PaymentError(
            _(
                "Another coordinator decides on and pays your own claims (site staff, where "
                "there is no other coordinator)."
            )
        )
    if by.pk == claim.entered_by_id:
        raise PaymentError(
            _(
                "You entered this claim, so another coordinator decides on it and pays it (site "
                "staff, where there is no other coordinator)."
            )
        )
    raise PaymentError(_("Only coordinators decide on claims."))


def _tell(claim: Claim, kind: str) -> None:
    # Each step is news about their money: always sent. The key lets a second question on
    # the same claim be told too.
    notify(
        recipients=[claim.claimant],
        kind=kind,
        about=claim,
        community=claim.community,
        key=claim.status_changed_at.isoformat(),
    )


def _move(claim: Claim, status: str, *, by: User) -> None:
    """Move a locked claim on. The same step twice (a second tab, a page out of date) is
    refused rather than done again, so nobody is told twice."""
    if not claim.set_status(status, by=by):
        raise StatusError(
            _("This claim is already “%(now)s”. Reload the page to see the latest.")
            % {"now": claim.get_status_display()}
        )


@transaction.atomic
def decide_claim(*, claim: Claim, by: User, action: str, text: str = "") -> Claim:
    """Approve, query (ask a question the person answers) or reject (with a reason) a claim.
    The person is told each time."""
    refuse_if_archived(claim.community)
    _check_decider(claim, by)
    claim = _locked(claim)
    text = text.strip()
    if action == "approve":
        _move(claim, Claim.Status.APPROVED, by=by)
    elif action == "query":
        if not text:
            raise PaymentError(_("Write the question to ask."))
        _move(claim, Claim.Status.QUERIED, by=by)
        claim.question, claim.answer = text, ""
    elif action == "reject":
        if not text:
            raise PaymentError(_("Say why the claim is not approved."))
        _move(claim, Claim.Status.REJECTED, by=by)
        claim.decision_reason = text
    else:
        raise PaymentError(_("Choose approve, ask a question, or not approve."))
    claim.save(update_fields=["question", "answer", "decision_reason"])
    _tell(claim, f"claim_{claim.status}")
    return claim


@transaction.atomic
def answer_query(*, claim: Claim, by: User, answer: str) -> Claim:
    refuse_if_archived(claim.community)
    claim = _locked(claim)
    if not may_change_own_claim(by, claim):
        raise PaymentError(_("Only the person who made the claim can answer."))
    if not answer.strip():
        raise PaymentError(_("Write your answer."))
    _move(claim, Claim.Status.SUBMITTED, by=by)
    claim.answer = answer.strip()
    claim.save(update_fields=["answer"])
    notify(
        recipients=_deciders(claim),
        kind="claim_answered",
        about=claim,
        community=claim.community,
        key=claim.status_changed_at.isoformat(),
    )
    return claim


@transaction.atomic
def withdraw_claim(*, claim: Claim, by: User) -> Claim:
    refuse_if_archived(claim.community)
    claim = _locked(claim)
    if not may_change_own_claim(by, claim):
        raise PaymentError(_("Only the person who made the claim can withdraw it."))
    _move(claim, Claim.Status.WITHDRAWN, by=by)
    return claim


@transaction.atomic
def mark_paid(*, claim: Claim, by: User, paid_on: date, reference: str) -> Claim:
    refuse_if_archived(claim.community)
    _check_decider(claim, by)
    claim = _locked(claim)
    if paid_on > community_today(claim.community):
        raise PaymentError(_("The payment date cannot be in the future."))
    _move(claim, Claim.Status.PAID, by=by)
    claim.paid_on, claim.payment_reference = paid_on, reference.strip()
    claim.save(update_fields=["paid_on", "payment_reference"])
    _tell(claim, "claim_paid")
    return claim


@transaction.atomic
def set_payment_choice(*, membership: Membership, choice: str, lower_percent=None, charity=""):
    refuse_if_archived(membership.community)
    record = choice_of(membership)
    record.membership = membership
    record.choice = choice
    record.lower_percent = lower_percent if choice == PaymentChoice.Choice.LOWER else None
    record.charity = charity.strip() if choice == PaymentChoice.Choice.CHARITY else ""
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def save_rate(*, community: Community, form):
    """Add a rate from a date (the form carries the rate); claims already made keep theirs."""
    refuse_if_archived(community)
    return form.save()


@transaction.atomic
def save_payment_settings(*, community: Community, form):
    refuse_if_archived(community)
    return form.save()


@transaction.atomic
def save_paid_role(*, community: Community, form):
    """Give a member a paid role (the form carries it)."""
    refuse_if_archived(community)
    return form.save()


# --- Finance -----------------------------------------------------------------------------------


@dataclass
class PersonTotal:
    person: User
    time: Decimal
    expenses: Decimal
    over_threshold: bool

    @property
    def total(self) -> Decimal:
        return self.time + self.expenses


def tax_year_version(community: Community, day: date) -> str:
    """The version the tax year's totals are kept under: the revision of the community's
    claims (which their expenses and its payment settings raise too), of people's names,
    and the tax year."""
    claims, people = revisions.read(revisions.key(CLAIMS_REVISION, community.pk), revisions.PEOPLE)
    start, _end = tax_year_of(day)
    return version_of(community.pk, claims, people, start.isoformat())


def kept_tax_year_totals(
    community: Community, day: date, *, version: str | None = None
) -> list[PersonTotal]:
    """`tax_year_totals`, counted once per `tax_year_version` and kept. `version` gives the
    version where it was read already."""
    return computed(
        "engagement-tax-year-totals",
        version or tax_year_version(community, day),
        lambda: tax_year_totals(community, day),
    )


def tax_year_totals(community: Community, day: date) -> list[PersonTotal]:
    """Each person's approved and paid claims in the tax year of `day`: for their time and for
    expenses, flagged where their total passes the community's threshold. Two queries."""
    claims = (
        Claim.objects.filter(community=community)
        .counted()
        .in_tax_year(day)
        .values("claimant")
        .annotate(
            time=Sum("payable"),
            earnings=Sum("payable", filter=~Q(choice=PaymentChoice.Choice.CHARITY)),
        )
        .order_by()
    )
    expenses = dict(
        Expense.objects.filter(
            claim__community=community, claim__in=Claim.objects.counted().in_tax_year(day)
        )
        .values_list("claim__claimant")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    threshold = getattr(getattr(community, "payment_settings", None), "threshold", None)
    people = User.objects.in_bulk([row["claimant"] for row in claims])
    totals = []
    for row in claims:
        spent = expenses.get(row["claimant"], Decimal("0"))
        # Repaid expenses are not earnings, and money given to a charity is not the
        # person's: only their own payments for time count towards the threshold.
        earnings = row["earnings"] or Decimal("0")
        totals.append(
            PersonTotal(
                people[row["claimant"]],
                row["time"] or Decimal("0"),
                spent,
                threshold is not None and earnings > threshold,
            )
        )
    return sorted(totals, key=lambda t: (-t.total, t.person.display_name))


def _money(community: Community, day: date, **more) -> dict:
    """The tax year's money for time and expenses, the budget, and any `more` figures of
    the community, in one query."""
    counted = Claim.objects.filter(community=community).counted().in_tax_year(day)
    return (
        Community.objects.filter(pk=community.pk)
        .order_by()
        .values(
            time=aggregates.total(counted, "payable"),
            expenses=aggregates.total(Expense.objects.filter(claim__in=counted), "amount"),
            budget=Subquery(
                PaymentSettings.objects.filter(community=OuterRef("pk")).values("budget")[:1]
            ),
            **more,
        )
        .get()
    )


def spending(community: Community, day: date, money: dict | None = None) -> dict:
    """Approved and paid money this tax year, against the community's budget. `money` is
    `_money()` for that day, when the caller has read it already."""
    start, end = tax_year_of(day)
    money = money or _money(community, day)
    budget = money["budget"]
    total = money["time"] + money["expenses"]
    return {
        "start": start,
        "end": end,
        "spent": total,
        "budget": budget,
        "left": (budget - total) if budget is not None else None,
        "share": int(100 * total / budget) if budget else None,
    }


FINANCE_CHUNK_SIZE = 2000
CENTS = Decimal("0.01")


def finance_rows(claims) -> Iterator[list]:
    """One row per claim in `claims`, in its order, for finance: who, what, when, the rate,
    the amount for time, their choice, expenses, the total and where payment stands. One
    query (expenses are summed in SQL); labels translated now, once each."""
    labels = {
        field: {value: str(label) for value, label in Claim._meta.get_field(field).choices}
        for field in ("activity", "rate_basis", "choice", "status")
    }
    money = DecimalField(max_digits=9, decimal_places=2)
    rows = claims.select_related("claimant", "paid_role").annotate(
        expenses_sum=Coalesce(
            Subquery(
                Expense.objects.filter(claim=OuterRef("pk"))
                .values("claim")
                .annotate(total=Sum("amount"))
                .values("total"),
                output_field=money,
            ),
            Value(Decimal("0.00")),
            output_field=money,
        )
    )

    def label(field, value):
        return labels[field].get(value, value)

    def generate():
        for claim in rows.iterator(chunk_size=FINANCE_CHUNK_SIZE):
            expenses = claim.expenses_sum.quantize(CENTS)  # SQLite's sum is not rounded
            charity = f": {claim.charity}" if claim.charity else ""
            yield [
                claim.claimant.display_name,
                claim.paid_role.title if claim.paid_role else "",
                label("activity", claim.activity),
                claim.date.isoformat(),
                claim.hours or "",
                claim.rate_amount or "",
                label("rate_basis", claim.rate_basis),
                claim.payable,
                label("choice", claim.choice) + charity,
                expenses,
                claim.payable + expenses,
                label("status", claim.status),
                claim.paid_on.isoformat() if claim.paid_on else "",
                claim.payment_reference,
            ]

    return generate()


def parse_day(value: str) -> date | None:
    """A date from a query string, or None; only years a tax year can be built around."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None
    return day if 1900 <= day.year <= 2999 else None


# The revision of a community's claims, their expenses and its payment settings (followed in
# engagement.apps): what the dashboard's payments panel is kept under.
CLAIMS_REVISION = "community-claims"


def dashboard_panel(community, user=None) -> dict:
    """What the coordinators' dashboard shows about payments: the claims waiting for this
    coordinator (`user`) to decide, apart from their own (made or entered from paper by
    them), which someone else decides; and spending against the budget this tax year."""
    today = community_today(community)
    (revision,) = revisions.read(revisions.key(CLAIMS_REVISION, community.pk))

    def count() -> dict:
        waiting = Claim.objects.filter(community=community).waiting()
        money = _money(community, today, waiting=aggregates.count(waiting))
        return {"waiting": money["waiting"], "spending": spending(community, today, money)}

    # Kept per revision of the claims, their expenses and the budget, and per day (the
    # tax year is the day's).
    version = version_of(community.pk, revision, today.isoformat())
    figures = computed("engagement-claims-panel", version, count)
    own = 0
    if user is not None:
        own = computed(
            "engagement-own-claims-waiting",
            version_of(version, user.pk),
            lambda: (
                Claim.objects.filter(community=community)
                .waiting()
                .filter(Q(claimant=user) | Q(entered_by=user))
                .count()
            ),
        )
    return {
        "community": community,
        "kept_as": version_of(version, own),
        **figures,
        "for_you": figures["waiting"] - own,
        "own": own,
    }


SUGGESTED_RATES = Path(__file__).with_name("suggested_rates.json")


def suggested_rates() -> list[dict]:
    """The starting rates kept as data beside the code (never written into it)."""
    return json.loads(SUGGESTED_RATES.read_text())["rates"]


@transaction.atomic
def add_suggested_rates(*, community: Community, valid_from: date) -> int:
    """Add the suggested starting rates from a date, for activities that have no rate on
    that date yet. Returns how many were added; the coordinator changes them as needed."""
    refuse_if_archived(community)
    added = 0
    for row in suggested_rates():
        if Rate.objects.in_force(community=community, activity=row["activity"], on=valid_from):
            continue
        Rate.objects.create(
            community=community,
            activity=row["activity"],
            basis=row["basis"],
            amount=Decimal(row["amount"]),
            valid_from=valid_from,
        )
        added += 1
    return added
