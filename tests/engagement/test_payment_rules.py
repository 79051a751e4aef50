"""Paying people, the rules: the rate in force on a day, tax-year totals and the threshold,
the status table, spending against a budget, paid roles, the finance CSV, and who is told.

The pages themselves (role matrix, bad input, query counts) are in test_payment_pages.py.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.access import ArchivedError
from communities.models import Membership
from engagement import payments
from engagement.models import (
    Claim,
    PaidRole,
    PaymentChoice,
    PaymentError,
    PaymentSettings,
    Rate,
    Registration,
    Session,
)
from members.models import Notification
from members.personal_data import csv_cell
from members.status import StatusError
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receipts_elsewhere(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def rates(community):
    """Training at £20 an hour, £22 from 1 June 2026; meetings at £82.50 a half day."""
    for activity, basis, amount, valid_from in [
        ("training", "hour", "20", date(2026, 1, 1)),
        ("training", "hour", "22", date(2026, 6, 1)),
        ("preparation", "hour", "20", date(2025, 1, 1)),
        ("meeting", "half_day", "82.50", date(2025, 1, 1)),
        ("session", "hour", "25", date(2025, 1, 1)),
    ]:
        Rate.objects.create(
            community=community,
            activity=activity,
            basis=basis,
            amount=amount,
            valid_from=valid_from,
        )


def hours_claim(
    community, person, day, *, hours="3", activity="training", by=None, expenses=(), paid_role=None
):
    return payments.submit_claim(
        community=community,
        claimant=person,
        by=by or person,
        request=payments.ClaimRequest(
            kind="hours",
            activity=activity,
            date=day,
            hours=Decimal(hours) if hours else None,
            paid_role=paid_role,
        ),
        expenses=[{"kind": kind, "amount": Decimal(amount)} for kind, amount in expenses],
    )


def meeting_claim(community, person, day, **kwargs):
    return payments.submit_claim(
        community=community,
        claimant=person,
        by=person,
        request=payments.ClaimRequest(kind="meeting", date=day, **kwargs),
        expenses=[],
    )


def approve(claim, coordinator):
    return payments.decide_claim(claim=claim, by=coordinator, action="approve")


def pay(claim, coordinator, *, on=date(2026, 6, 10), reference="BACS 1"):
    return payments.mark_paid(claim=claim, by=coordinator, paid_on=on, reference=reference)


def person_in(community, email, name, **membership):
    person = make_person(email, name=name)
    Membership.objects.create(user=person, community=community, **membership)
    return person


# --- The rate in force on a day --------------------------------------------------------------


def test_the_day_before_a_new_rate_uses_the_old_one(community, member, rates):
    claim = hours_claim(community, member, date(2026, 5, 31))
    assert (claim.rate_amount, claim.rate_basis, claim.fee) == (
        Decimal("20"),
        "hour",
        Decimal("60.00"),
    )
    assert claim.rate.valid_from == date(2026, 1, 1)


def test_the_day_of_a_new_rate_uses_the_new_one(community, member, rates):
    claim = hours_claim(community, member, date(2026, 6, 1))
    assert (claim.rate_amount, claim.fee) == (Decimal("22"), Decimal("66.00"))
    assert claim.rate.valid_from == date(2026, 6, 1)


def test_the_day_before_the_first_rate_has_none(community, member, other_community, rates):
    # Another community's rate for the day is not this community's.
    Rate.objects.create(
        community=other_community,
        activity="training",
        basis="hour",
        amount="99",
        valid_from=date(2025, 1, 1),
    )
    with pytest.raises(PaymentError) as refused:
        hours_claim(community, member, date(2025, 12, 31))
    assert refused.value.messages == [
        "There is no rate for “Training” on 31 December 2025 yet, so this cannot be worked "
        "out. A coordinator adds rates under Manage, Payments, Rates; your claim is not lost, "
        "you can send it again then."
    ]
    assert not Claim.objects.exists()


def test_a_session_claim_takes_the_rate_of_the_communitys_day(community, member, rates):
    """A session at 00:30 on 1 June in London is still 31 May in UTC: the community's day
    decides the rate."""
    Rate.objects.create(
        community=community,
        activity="session",
        basis="hour",
        amount="30",
        valid_from=date(2026, 6, 1),
    )
    start = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    session = Session.objects.create(
        community=community,
        title="Late",
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        status="completed",
    )
    Registration.objects.create(session=session, user=member, status="registered", attended=True)
    claim = payments.submit_claim(
        community=community,
        claimant=member,
        by=member,
        request=payments.ClaimRequest(kind="session", session=session),
        expenses=[],
    )
    assert (claim.date, claim.hours, claim.fee) == (
        date(2026, 6, 1),
        Decimal("1"),
        Decimal("30.00"),
    )


def test_a_rate_per_half_day_is_paid_whatever_the_hours(community, member, rates):
    claim = meeting_claim(community, member, date(2026, 5, 1), hours=Decimal("3.5"))
    assert (claim.activity, claim.rate_basis, claim.fee) == (
        "meeting",
        "half_day",
        Decimal("82.50"),
    )


def test_a_claim_keeps_its_rate_when_rates_change(community, member, rates):
    claim = hours_claim(community, member, date(2026, 5, 31))
    Rate.objects.create(
        community=community,
        activity="training",
        basis="hour",
        amount="40",
        valid_from=date(2026, 5, 31),
    )
    Rate.objects.filter(valid_from=date(2026, 1, 1), activity="training").update(amount="50")
    claim.refresh_from_db()
    assert (claim.rate_amount, claim.fee, claim.payable) == (
        Decimal("20"),
        Decimal("60"),
        Decimal("60"),
    )
    # The next claim for that day uses the new rate.
    assert hours_claim(community, member, date(2026, 5, 31), hours="1").fee == Decimal("40")


# --- Paid roles ------------------------------------------------------------------------------


@pytest.fixture
def coach(member):
    return PaidRole.objects.create(
        membership=member.memberships.get(),
        title="Microsystems coach",
        hours_per_month=8,
        hourly_rate=Decimal("18.00"),
        starts_on=date(2026, 1, 1),
    )


def test_a_paid_roles_hours_are_paid_at_the_roles_rate(community, member, rates, coach):
    # A community rate for paid roles' hours exists, but the role's own agreed rate wins.
    Rate.objects.create(
        community=community, activity="role", basis="hour", amount="30", valid_from=date(2025, 1, 1)
    )
    claim = hours_claim(
        community, member, date(2026, 7, 1), hours="2.5", activity="role", paid_role=coach
    )
    assert (claim.paid_role, claim.rate, claim.rate_basis) == (coach, None, "hour")
    assert (claim.rate_amount, claim.fee) == (Decimal("18.00"), Decimal("45.00"))
    # A later change to the role's rate does not change the claim.
    PaidRole.objects.filter(pk=coach.pk).update(hourly_rate="25")
    claim.refresh_from_db()
    assert claim.fee == Decimal("45.00")


def test_a_paid_roles_hours_need_the_hours(community, member, rates, coach):
    with pytest.raises(PaymentError, match="this rate is paid by the hour"):
        hours_claim(community, member, date(2026, 7, 1), hours="", activity="role", paid_role=coach)


def test_a_paid_role_is_paid_only_while_it_is_held(community, member, rates, coach):
    """The role was agreed until 30 June: hours on 1 July are not the role's hours."""
    PaidRole.objects.filter(pk=coach.pk).update(ends_on=date(2026, 6, 30))
    coach.refresh_from_db()
    assert hours_claim(
        community, member, date(2026, 6, 30), hours="1", activity="role", paid_role=coach
    ).fee == Decimal("18.00")
    with pytest.raises(PaymentError):
        hours_claim(
            community, member, date(2026, 7, 1), hours="1", activity="role", paid_role=coach
        )
    with pytest.raises(PaymentError):
        hours_claim(
            community, member, date(2025, 12, 31), hours="1", activity="role", paid_role=coach
        )


# --- The tax year and the threshold ----------------------------------------------------------


@pytest.fixture
def around_april(community, member, coordinator, rates):
    """Michael's claims either side of the end of the tax year, approved or paid, and others
    that do not count."""
    last_day = hours_claim(community, member, date(2026, 4, 5), expenses=[("travel", "10")])
    first_day = hours_claim(
        community,
        member,
        date(2026, 4, 6),
        hours="2",
        expenses=[("carer", "15.50"), ("travel", "4.50")],
    )
    approve(last_day, coordinator)
    pay(approve(first_day, coordinator), coordinator)
    # Waiting, refused or withdrawn claims are not money paid.
    hours_claim(community, member, date(2026, 4, 6), hours="1", expenses=[("travel", "99")])
    refused = hours_claim(
        community, member, date(2026, 4, 7), hours="1", expenses=[("travel", "99")]
    )
    payments.decide_claim(claim=refused, by=coordinator, action="reject", text="No")
    gone = hours_claim(community, member, date(2026, 4, 8), hours="1", expenses=[("other", "99")])
    payments.withdraw_claim(claim=gone, by=member)


def test_totals_either_side_of_5_april(community, member, around_april):
    [before] = payments.tax_year_totals(community, date(2026, 4, 5))
    [after] = payments.tax_year_totals(community, date(2026, 4, 6))
    assert (before.person, before.time, before.expenses, before.total) == (
        member,
        Decimal("60"),
        Decimal("10"),
        Decimal("70"),
    )
    assert (after.time, after.expenses, after.total) == (
        Decimal("40"),
        Decimal("20"),
        Decimal("60"),
    )
    # The first and last days of a tax year find the same year.
    assert payments.tax_year_totals(community, date(2025, 4, 6))[0].total == Decimal("70")
    assert payments.tax_year_totals(community, date(2027, 4, 5))[0].total == Decimal("60")
    assert payments.tax_year_totals(community, date(2027, 4, 6)) == []


# Only payment for time counts towards the threshold: repaid expenses are not earnings.
@pytest.mark.parametrize(
    "threshold, over", [("40.00", False), ("39.99", True), ("40.01", False), (None, False)]
)
def test_exactly_at_the_threshold_is_not_over_and_a_penny_more_is(
    community, member, around_april, threshold, over
):
    PaymentSettings.objects.create(community=community, threshold=threshold)
    community.refresh_from_db()
    [after] = payments.tax_year_totals(community, date(2026, 4, 6))
    assert after.total == Decimal("60") and after.time == Decimal("40")
    assert after.over_threshold is over


def test_the_totals_page_shows_the_year_asked_for_and_flags(
    client, community, member, coordinator, around_april
):
    PaymentSettings.objects.create(community=community, threshold="55")
    client.force_login(coordinator)
    totals = reverse("engagement:manage_payment_totals", args=[community.slug])
    before = client.get(totals, {"year_of": "2026-04-05"})
    page = unescape(before.content.decode())
    assert "Totals per person, 6 Apr 2025 to 5 Apr 2026" in page
    assert "<td>Michael</td><td>£60.00</td><td>£10.00</td><td>£70.00</td><td><strong>Yes" in page
    assert "People over £55.00 are flagged" in page
    after = unescape(client.get(totals, {"year_of": "2026-04-06"}).content.decode())
    assert "Totals per person, 6 Apr 2026 to 5 Apr 2027" in after
    assert "<td>Michael</td><td>£40.00</td><td>£20.00</td><td>£60.00</td><td>No</td>" in after
    # No year given: today's.
    today = client.get(totals)
    assert today.context["start"] == payments.tax_year_of(timezone.localdate())[0]


def test_my_payments_totals_this_tax_year(client, member, around_april):
    client.force_login(member)
    response = client.get(reverse("engagement:my_payments"))
    start, _end = payments.tax_year_of(timezone.localdate())
    if start == date(2026, 4, 6):
        assert (response.context["time_total"], response.context["expenses_total"]) == (
            Decimal("40"),
            Decimal("20"),
        )
        page = response.content.decode()
        assert "£40.00</strong> for your time, approved or paid, 6 Apr 2026 to 5 Apr 2027" in page
        assert "£20.00</strong> in expenses" in page
    else:  # run in a later year: none of these claims are this year's
        assert response.context["time_total"] == 0


def test_totals_list_each_person_highest_first(community, member, coordinator, rates):
    other = person_in(community, "mina@example.org", "Mina")
    approve(hours_claim(community, member, date(2026, 5, 1), hours="1"), coordinator)
    approve(hours_claim(community, other, date(2026, 5, 1), hours="4"), coordinator)
    totals = payments.tax_year_totals(community, date(2026, 5, 1))
    assert [(t.person, t.total) for t in totals] == [
        (other, Decimal("80")),
        (member, Decimal("20")),
    ]


# --- The status table ------------------------------------------------------------------------

S = Claim.Status
LABELS = {
    "submitted": "Waiting for a coordinator", "queried": "A coordinator asked a question",
    "approved": "Approved", "rejected": "Not approved", "paid": "Paid", "withdrawn": "Withdrawn",
}  # fmt: skip
ALLOWED = {
    ("submitted", "queried"), ("submitted", "approved"), ("submitted", "rejected"),
    ("submitted", "withdrawn"), ("queried", "submitted"), ("queried", "rejected"),
    ("queried", "withdrawn"), ("approved", "paid"),
}  # fmt: skip


def refusal(now: str, new: str) -> str:
    if now == new:
        return f"This claim is already “{LABELS[now]}”. Reload the page to see the latest."
    return (
        f"A claim that is “{LABELS[now]}” cannot become “{LABELS[new]}”. Reload the page to "
        "see the latest."
    )


@pytest.mark.parametrize("new", LABELS)
@pytest.mark.parametrize("now", LABELS)
def test_the_status_table(community, member, rates, now, new):
    claim = hours_claim(community, member, date(2026, 5, 1))
    Claim.objects.filter(pk=claim.pk).update(status=now)
    claim.refresh_from_db()
    if now == new:
        assert claim.set_status(new, by=member) is False
    elif (now, new) in ALLOWED:
        assert claim.set_status(new, by=member) is True
        assert Claim.objects.get(pk=claim.pk).status == new
    else:
        with pytest.raises(StatusError) as refused:
            claim.set_status(new, by=member)
        assert refused.value.messages == [refusal(now, new)]
        assert claim.status == Claim.objects.get(pk=claim.pk).status == now


# Each thing people do, the status it leads to, and who does it.
ACTIONS = {
    "approve": ("approved", lambda c, coord, m: payments.decide_claim(
        claim=c, by=coord, action="approve")),
    "query": ("queried", lambda c, coord, m: payments.decide_claim(
        claim=c, by=coord, action="query", text="Which bus?")),
    "reject": ("rejected", lambda c, coord, m: payments.decide_claim(
        claim=c, by=coord, action="reject", text="Not ours to pay.")),
    "answer": ("submitted", lambda c, coord, m: payments.answer_query(
        claim=c, by=m, answer="The 52")),
    "withdraw": ("withdrawn", lambda c, coord, m: payments.withdraw_claim(claim=c, by=m)),
    "paid": ("paid", lambda c, coord, m: payments.mark_paid(
        claim=c, by=coord, paid_on=date(2026, 6, 10), reference="R1")),
}  # fmt: skip


@pytest.mark.parametrize("now", LABELS)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_from_each_status(community, member, coordinator, rates, action, now):
    claim = hours_claim(community, member, date(2026, 5, 1))
    Claim.objects.filter(pk=claim.pk).update(status=now)
    Notification.objects.all().delete()
    new, act = ACTIONS[action]
    if (now, new) in ALLOWED:
        act(claim, coordinator, member)
        assert Claim.objects.get(pk=claim.pk).status == new
        return
    before = Claim.objects.values().get(pk=claim.pk)
    with pytest.raises(StatusError) as refused:
        act(claim, coordinator, member)
    assert refused.value.messages == [refusal(now, new)]
    assert Claim.objects.values().get(pk=claim.pk) == before
    assert not Notification.objects.exists()


# --- Spending against the budget -------------------------------------------------------------


@pytest.fixture
def spent(community, member, coordinator, other_community, rates):
    """£148.90 approved or paid this tax year; everything else not counted."""
    approve(
        hours_claim(community, member, date(2026, 5, 1), expenses=[("travel", "6.40")]), coordinator
    )
    pay(approve(meeting_claim(community, member, date(2026, 5, 2)), coordinator), coordinator)
    hours_claim(community, member, date(2026, 5, 3), expenses=[("travel", "50")])  # waiting
    approve(hours_claim(community, member, date(2026, 4, 5)), coordinator)  # last year
    stranger = person_in(other_community, "sam@example.org", "Sam")
    Rate.objects.create(
        community=other_community,
        activity="training",
        basis="hour",
        amount="20",
        valid_from=date(2025, 1, 1),
    )
    Claim.objects.filter(pk=hours_claim(other_community, stranger, date(2026, 5, 1)).pk).update(
        status="approved"
    )


def test_spending_against_the_budget(community, spent):
    PaymentSettings.objects.create(community=community, budget="1000")
    community.refresh_from_db()
    figures = payments.spending(community, date(2026, 5, 1))
    assert figures == {
        "start": date(2026, 4, 6),
        "end": date(2027, 4, 5),
        "spent": Decimal("148.90"),
        "budget": Decimal("1000"),
        "left": Decimal("851.10"),
        "share": 14,
    }


def test_spending_over_the_budget_and_with_none(community, spent):
    figures = payments.spending(community, date(2026, 5, 1))
    assert (figures["spent"], figures["budget"], figures["left"], figures["share"]) == (
        Decimal("148.90"),
        None,
        None,
        None,
    )
    PaymentSettings.objects.create(community=community, budget="100")
    community.refresh_from_db()
    figures = payments.spending(community, date(2026, 5, 1))
    assert (figures["left"], figures["share"]) == (Decimal("-48.90"), 148)


def test_the_dashboard_shows_claims_waiting_and_spending(client, community, coordinator, spent):
    PaymentSettings.objects.create(community=community, budget="1000")
    client.force_login(coordinator)
    dashboard = reverse("communities:manage_dashboard", args=[community.slug])
    page = unescape(client.get(dashboard).content.decode())
    assert "<strong>1</strong> claim waiting for you" in page
    if payments.tax_year_of(timezone.localdate())[0] == date(2026, 4, 6):
        assert "<strong>£148.90</strong> approved or paid, 6 Apr 2026 to 5 Apr 2027" in page
        assert "<strong>£1000.00</strong> budget (14% spent)" in page
        assert "<strong>£851.10</strong> left" in page


def test_a_coordinators_own_claims_are_not_counted_as_waiting_for_them(
    client, community, coordinator, member, rates
):
    """A coordinator never decides a claim they made or entered from paper, so the
    dashboard does not count it as waiting for them; it does for the other coordinators."""
    second = person_in(community, "cath@example.org", "Cath", role="coordinator")
    hours_claim(community, member, date(2026, 5, 3), by=coordinator)  # entered from paper
    hours_claim(community, coordinator, date(2026, 5, 4))  # their own
    hours_claim(community, member, date(2026, 5, 5))  # the member's, online
    dashboard = reverse("communities:manage_dashboard", args=[community.slug])
    client.force_login(coordinator)
    page = unescape(client.get(dashboard).content.decode())
    assert "<strong>1</strong> claim waiting for you" in page
    assert "(and 2 of your own, which another coordinator decides)" in page
    client.force_login(second)
    page = unescape(client.get(dashboard).content.decode())
    assert "<strong>3</strong> claims waiting for you" in page
    assert "of your own" not in page


def test_the_kept_payments_panel_shows_each_change_at_once(
    client, community, member, coordinator, spent
):
    """The panel is kept per revision of the claims, their expenses and the budget: a claim
    submitted, a decision and a new budget each show on the next view."""
    client.force_login(coordinator)

    def panel():
        response = client.get(reverse("communities:manage_dashboard", args=[community.slug]))
        [figures] = [p for t, p in response.context["panels"] if "payments" in t]
        return figures["waiting"], figures["spending"]["spent"], figures["spending"]["budget"]

    day = payments.tax_year_of(timezone.localdate())[0]
    assert panel() == (1, payments.spending(community, day)["spent"], None)
    claim = hours_claim(community, member, day, expenses=[("travel", "2.00")])
    waiting, spent_before, _budget = panel()
    assert waiting == 2
    approve(claim, coordinator)
    waiting, spent_after, _budget = panel()
    assert waiting == 1
    assert spent_after == spent_before + claim.payable + Decimal("2.00")
    PaymentSettings.objects.create(community=community, budget="500")
    assert panel()[2] == Decimal("500")


# --- The finance CSV -------------------------------------------------------------------------

HEADER = ["name", "role", "activity", "date", "hours", "rate", "basis", "amount",
          "choice", "expenses", "total", "status", "paid on", "reference"]  # fmt: skip


@pytest.fixture
def for_finance(community, member, coordinator, other_community, rates, coach):
    """Three claims finance pays in the period, and others it must not see."""
    eve = person_in(community, "eve@example.org", '=HYPERLINK("http://evil.example","Eve")')
    payments.set_payment_choice(
        membership=eve.memberships.get(), choice="charity", charity="Bowel Cancer UK"
    )
    payments.set_payment_choice(
        membership=member.memberships.get(), choice="lower", lower_percent=50
    )
    approve(
        hours_claim(
            community,
            member,
            date(2026, 5, 10),
            activity="preparation",
            expenses=[("travel", "6.40")],
        ),
        coordinator,
    )
    payments.set_payment_choice(membership=member.memberships.get(), choice="accept")
    meeting = approve(meeting_claim(community, eve, date(2026, 6, 1)), coordinator)
    Claim.objects.get(pk=meeting.pk).expenses.create(
        kind="childcare", amount="30", description="@home"
    )
    pay(meeting, coordinator, on=date(2026, 6, 10), reference="-100+1")
    approve(
        hours_claim(
            community, member, date(2026, 7, 1), hours="2.5", activity="role", paid_role=coach
        ),
        coordinator,
    )
    # Not for finance: waiting, asked about, refused, withdrawn, outside the period, elsewhere.
    hours_claim(community, member, date(2026, 5, 11), hours="1")
    payments.decide_claim(
        claim=hours_claim(community, member, date(2026, 5, 12), hours="1"),
        by=coordinator,
        action="query",
        text="?",
    )
    payments.decide_claim(
        claim=hours_claim(community, member, date(2026, 5, 13), hours="1"),
        by=coordinator,
        action="reject",
        text="No",
    )
    payments.withdraw_claim(
        claim=hours_claim(community, member, date(2026, 5, 14), hours="1"), by=member
    )
    approve(hours_claim(community, member, date(2026, 4, 5), hours="1"), coordinator)
    approve(hours_claim(community, member, date(2026, 11, 1), hours="1"), coordinator)
    stranger = person_in(other_community, "sam@example.org", "Sam")
    Rate.objects.create(
        community=other_community,
        activity="training",
        basis="hour",
        amount="20",
        valid_from=date(2025, 1, 1),
    )
    Claim.objects.filter(pk=hours_claim(other_community, stranger, date(2026, 5, 1)).pk).update(
        status="approved"
    )
    return eve


def test_the_finance_csv_has_exactly_the_approved_and_paid_claims_in_the_period(
    client, community, coordinator, for_finance
):
    client.force_login(coordinator)
    response = client.get(
        reverse("engagement:manage_payments_csv", args=[community.slug]),
        {"start": "2026-04-06", "end": "2026-10-31"},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="payments-bowel-care-2026-04-06-2026-10-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert rows == [
        HEADER,
        [
            "Michael",
            "",
            "Preparation or reading",
            "2026-05-10",
            "3.00",
            "20.00",
            "Per hour",
            "30.00",
            "Accept a lower amount",
            "6.40",
            "36.40",
            "Approved",
            "",
            "",
        ],
        # A name and a reference a spreadsheet would run as formulas open as text.
        [
            '\'=HYPERLINK("http://evil.example","Eve")',
            "",
            "A delivery group meeting",
            "2026-06-01",
            "",
            "82.50",
            "Per half day",
            "82.50",
            "Give it to a charity: Bowel Cancer UK",
            "30.00",
            "112.50",
            "Paid",
            "2026-06-10",
            "'-100+1",
        ],
        [
            "Michael",
            "Microsystems coach",
            "A paid role's hours",
            "2026-07-01",
            "2.50",
            "18.00",
            "Per hour",
            "45.00",
            "Accept payment",
            "0.00",
            "45.00",
            "Approved",
            "",
            "",
        ],
    ]


def test_the_finance_csv_defaults_to_this_tax_year(client, community, coordinator, for_finance):
    client.force_login(coordinator)
    response = client.get(reverse("engagement:manage_payments_csv", args=[community.slug]))
    start, end = payments.tax_year_of(timezone.localdate())
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))[1:]
    assert all(start.isoformat() <= row[3] <= end.isoformat() for row in rows)
    if start == date(2026, 4, 6):
        assert [row[3] for row in rows] == ["2026-05-10", "2026-06-01", "2026-07-01", "2026-11-01"]
    # One day's period: just the last day of the tax year before.
    one_day = client.get(
        reverse("engagement:manage_payments_csv", args=[community.slug]),
        {"start": "2026-04-05", "end": "2026-04-05"},
    )
    rows = list(csv.reader(io.StringIO(one_day.getvalue().decode())))
    assert [row[3] for row in rows[1:]] == ["2026-04-05"]


@pytest.mark.parametrize(
    "typed, cell",
    [("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Ann = 1", "Ann = 1"), ("", "")],
)  # fmt: skip
def test_the_csvs_escaping_is_members_csv_cell(typed, cell):
    assert csv_cell(typed) == cell


def test_every_cell_a_person_typed_is_escaped_in_the_csv(
    client, community, member, coordinator, rates
):
    member.name = "@Michael"
    member.save()
    coach = PaidRole.objects.create(
        membership=member.memberships.get(),
        title="+Coach",
        hours_per_month=4,
        hourly_rate=Decimal("10"),
        starts_on=date(2026, 1, 1),
    )
    claim = approve(
        hours_claim(
            community, member, date(2026, 7, 1), hours="1", activity="role", paid_role=coach
        ),
        coordinator,
    )
    pay(claim, coordinator, on=date(2026, 7, 2), reference="=cmd|' /C calc'!A0")
    client.force_login(coordinator)
    response = client.get(
        reverse("engagement:manage_payments_csv", args=[community.slug]),
        {"start": "2026-07-01", "end": "2026-07-01"},
    )
    [_header, row] = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert (row[0], row[1], row[13]) == ("'@Michael", "'+Coach", "'=cmd|' /C calc'!A0")


# --- Who is told -----------------------------------------------------------------------------


def sent(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def test_each_step_tells_the_right_people_once(
    community,
    member,
    coordinator,
    partner,
    staff,
    other_coordinator,
    rates,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    person_in(community, "cleo@example.org", "Cleo", role="coordinator")
    coordinators = ["cleo@example.org", "cora@example.org"]

    def step(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    claim = step(lambda: hours_claim(community, member, date(2026, 5, 1)))
    assert sent("claim_submitted") == coordinators
    step(
        lambda: payments.decide_claim(
            claim=claim, by=coordinator, action="query", text="Which bus?"
        )
    )
    step(lambda: payments.answer_query(claim=claim, by=member, answer="The 52"))
    assert sent("claim_queried") == ["michael@example.org"]
    assert sent("claim_answered") == coordinators
    # A second question on the same claim is told too, and its answer.
    step(
        lambda: payments.decide_claim(
            claim=claim, by=coordinator, action="query", text="And the way back?"
        )
    )
    step(lambda: payments.answer_query(claim=claim, by=member, answer="The 53"))
    assert sent("claim_queried") == ["michael@example.org"] * 2
    assert sent("claim_answered") == sorted(coordinators * 2)
    step(lambda: approve(claim, coordinator))
    step(lambda: pay(claim, coordinator))
    assert sent("claim_approved") == sent("claim_paid") == ["michael@example.org"]
    refused = step(lambda: hours_claim(community, member, date(2026, 5, 2)))
    step(
        lambda: payments.decide_claim(
            claim=refused, by=coordinator, action="reject", text="Not a training day."
        )
    )
    assert sent("claim_rejected") == ["michael@example.org"]
    assert sent("claim_submitted") == sorted(coordinators * 2)
    # Nobody else hears anything about it.
    assert not Notification.objects.exclude(
        recipient__email__in=[*coordinators, "michael@example.org"]
    ).exists()
    # And the emails went out, once each.
    to_michael = [m.subject for m in mailoutbox if m.to == ["michael@example.org"]]
    assert to_michael == [
        "A question about your claim to Bowel care together",
        "A question about your claim to Bowel care together",
        "Your claim to Bowel care together is approved",
        "Your claim to Bowel care together is paid",
        "Your claim to Bowel care together was not approved",
    ]
    questions = [m.body for m in mailoutbox if m.subject.startswith("A question about your")]
    assert "Which bus?" in questions[0] and "And the way back?" in questions[1]
    assert "Not a training day." in mailoutbox[-1].body
    to_cora = [m.subject for m in mailoutbox if m.to == ["cora@example.org"]]
    assert to_cora == [
        "A claim is waiting in Bowel care together",
        "A question about a claim was answered in Bowel care together",
        "A question about a claim was answered in Bowel care together",
        "A claim is waiting in Bowel care together",
    ]
    assert claim.get_absolute_url() in mailoutbox[0].body


def test_a_withdrawn_claim_and_refused_steps_tell_nobody(community, member, coordinator, rates):
    claim = hours_claim(community, member, date(2026, 5, 1))
    Notification.objects.all().delete()
    with pytest.raises(PaymentError):
        payments.decide_claim(claim=claim, by=coordinator, action="query", text="  ")
    with pytest.raises(StatusError):
        payments.answer_query(claim=claim, by=member, answer="Nothing was asked")
    with pytest.raises(StatusError):
        pay(claim, coordinator)
    payments.withdraw_claim(claim=claim, by=member)
    assert not Notification.objects.exists()


def test_a_paper_claim_is_the_members_and_tells_the_other_coordinators(
    community, member, coordinator, rates
):
    person_in(community, "cleo@example.org", "Cleo", role="coordinator")
    claim = hours_claim(community, member, date(2026, 5, 1), by=coordinator)
    assert (claim.claimant, claim.entered_by) == (member, coordinator)
    # Cora entered it, so Cleo decides it (see test_claim_deciders.py).
    assert sent("claim_submitted") == ["cleo@example.org"]
    # The member's own choice applies, not the coordinator's.
    assert claim.choice == "accept"


def test_only_coordinators_enter_claims_for_others(community, member, partner, rates):
    with pytest.raises(PaymentError, match="Only coordinators"):
        hours_claim(community, member, date(2026, 5, 1), by=partner)
    assert not Claim.objects.exists()


# --- An archived community -------------------------------------------------------------------


@pytest.fixture
def archived(community, member, coordinator, rates):
    """Three claims made while the community ran: waiting, asked about, approved."""
    waiting = hours_claim(community, member, date(2026, 5, 1), hours="1")
    asked = payments.decide_claim(
        claim=hours_claim(community, member, date(2026, 5, 2), hours="1"),
        by=coordinator,
        action="query",
        text="?",
    )
    approved = approve(hours_claim(community, member, date(2026, 5, 3), hours="1"), coordinator)
    community.status = "archived"
    community.save()
    for claim in (waiting, asked, approved):
        claim.community = community
    return waiting, asked, approved


def test_an_archived_community_takes_no_claims_or_decisions(
    community, member, coordinator, archived
):
    waiting, _asked, approved = archived
    Notification.objects.all().delete()
    refused = "This community is archived, so nothing in it can be changed."
    with pytest.raises(ArchivedError, match=refused):
        hours_claim(community, member, date(2026, 5, 4), hours="1")
    with pytest.raises(ArchivedError, match=refused):
        approve(waiting, coordinator)
    with pytest.raises(ArchivedError, match=refused):
        pay(approved, coordinator)
    assert list(Claim.objects.order_by("date").values_list("status", flat=True)) == [
        "submitted",
        "queried",
        "approved",
    ]
    assert not Notification.objects.exists()


def test_an_archived_community_is_read_only_for_members_too(
    client, community, member, coordinator, archived
):
    """Answers, withdrawals and choices are changes like any other: in an archived
    community (read-only everywhere in Convene) they are refused too."""
    waiting, asked, _approved = archived
    Notification.objects.all().delete()
    client.force_login(member)
    client.post(
        reverse("engagement:claim_answer", args=[community.slug, asked.pk]), {"answer": "Yes"}
    )
    client.post(reverse("engagement:claim_withdraw", args=[community.slug, waiting.pk]))
    client.post(reverse("engagement:payment_choice", args=[community.slug]), {"choice": "decline"})
    assert list(Claim.objects.order_by("date").values_list("status", flat=True)) == [
        "submitted",
        "queried",
        "approved",
    ], "a claim changed in an archived community"
    assert not Notification.objects.exists()
    assert not PaymentChoice.objects.exists(), "a choice was saved in an archived community"
