"""Paying people: rates on a date, claims, approval, the tax year and the finance CSV."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from engagement import payments
from engagement.models import (
    Claim,
    PaymentChoice,
    PaymentError,
    PaymentSettings,
    Rate,
    Registration,
    Session,
    tax_year_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receipts_elsewhere(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def rates(community):
    Rate.objects.create(
        community=community,
        activity="session",
        basis="hour",
        amount="25",
        valid_from=date(2025, 1, 1),
    )
    Rate.objects.create(
        community=community,
        activity="session",
        basis="hour",
        amount="27.50",
        valid_from=date(2025, 12, 16),
    )
    Rate.objects.create(
        community=community,
        activity="meeting",
        basis="half_day",
        amount="82.50",
        valid_from=date(2025, 1, 1),
    )


@pytest.fixture
def held(community, member):
    start = timezone.now() - timedelta(days=3)
    session = Session.objects.create(
        community=community,
        title="Drop-in",
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="completed",
    )
    Registration.objects.create(session=session, user=member, status="registered", attended=True)
    return session


def test_the_rate_in_force_is_the_latest_from_on_or_before_the_day(community, rates):
    assert Rate.objects.in_force(
        community=community, activity="session", on=date(2025, 12, 15)
    ).amount == Decimal("25")
    assert Rate.objects.in_force(
        community=community, activity="session", on=date(2025, 12, 16)
    ).amount == Decimal("27.50")
    assert (
        Rate.objects.in_force(community=community, activity="session", on=date(2024, 12, 31))
        is None
    )


def test_tax_year_runs_from_6_april_to_5_april():
    assert tax_year_of(date(2026, 4, 5)) == (date(2025, 4, 6), date(2026, 4, 5))
    assert tax_year_of(date(2026, 4, 6)) == (date(2026, 4, 6), date(2027, 4, 5))


def _claim(community, member, held, **expense):
    return payments.submit_claim(
        community=community,
        claimant=member,
        by=member,
        request=payments.ClaimRequest(kind="session", session=held),
        expenses=[expense] if expense else [],
    )


def test_a_session_claim_uses_the_sessions_length_and_the_rate_of_the_day(
    community, member, rates, held
):
    claim = _claim(community, member, held, kind="travel", amount=Decimal("6.40"))
    assert claim.hours == 2 and claim.rate_amount == Decimal("27.50")
    assert claim.fee == claim.payable == Decimal("55.00")
    assert claim.total == Decimal("61.40") and not claim.not_recorded_as_attending
    # A new rate later does not change a claim already made.
    Rate.objects.create(
        community=community,
        activity="session",
        basis="hour",
        amount="40",
        valid_from=held.starts_at.date(),
    )
    claim.refresh_from_db()
    assert claim.fee == Decimal("55.00")


def test_two_claims_for_one_session_are_refused(community, member, rates, held):
    _claim(community, member, held)
    with pytest.raises(PaymentError, match="already a claim"):
        _claim(community, member, held)


def test_a_session_not_attended_is_allowed_but_flagged(community, member, rates, held):
    Registration.objects.filter(user=member).update(attended=False)
    assert _claim(community, member, held).not_recorded_as_attending


def test_no_rate_for_the_date_says_so(community, member, held):
    with pytest.raises(PaymentError, match="no rate"):
        _claim(community, member, held)


def test_more_than_24_hours_in_a_day_is_refused(community, member, rates):
    Rate.objects.create(
        community=community,
        activity="training",
        basis="hour",
        amount="20",
        valid_from=date(2025, 1, 1),
    )
    day = timezone.localdate() - timedelta(days=1)
    ask = payments.ClaimRequest(kind="hours", activity="training", date=day, hours=Decimal("20"))
    payments.submit_claim(community=community, claimant=member, by=member, request=ask, expenses=[])
    ask.hours = Decimal("5")
    with pytest.raises(PaymentError, match="24 hours"):
        payments.submit_claim(
            community=community, claimant=member, by=member, request=ask, expenses=[]
        )


def test_a_lower_amount_a_charity_or_declining(community, member, rates, held):
    membership = member.memberships.get()
    payments.set_payment_choice(membership=membership, choice="lower", lower_percent=50)
    assert _claim(community, member, held).payable == Decimal("27.50")
    Claim.objects.all().delete()
    payments.set_payment_choice(membership=membership, choice="decline")
    claim = _claim(community, member, held, kind="travel", amount=Decimal("5"))
    assert claim.payable == 0 and claim.total == Decimal("5")
    assert PaymentChoice.objects.get().choice == "decline"


def test_query_answer_approve_and_pay_tell_the_member_each_step(
    community, member, coordinator, rates, held, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = _claim(community, member, held)
    with django_capture_on_commit_callbacks(execute=True):
        payments.decide_claim(claim=claim, by=coordinator, action="query", text="Which bus?")
    with django_capture_on_commit_callbacks(execute=True):
        payments.answer_query(claim=claim, by=member, answer="The 52")
    with django_capture_on_commit_callbacks(execute=True):
        payments.decide_claim(claim=claim, by=coordinator, action="approve")
    with django_capture_on_commit_callbacks(execute=True):
        payments.mark_paid(
            claim=claim, by=coordinator, paid_on=timezone.localdate(), reference="BACS 1234"
        )
    to_member = [m.subject for m in mailoutbox if m.to == [member.email]]
    assert to_member == [
        "A question about your claim to Bowel care together",
        "Your claim to Bowel care together is approved",
        "Your claim to Bowel care together is paid",
    ]
    claim.refresh_from_db()
    assert claim.status == "paid" and claim.payment_reference == "BACS 1234"


def test_totals_cross_the_april_boundary_and_flag_the_threshold(community, member, rates):
    PaymentSettings.objects.create(community=community, threshold=Decimal("100"))
    for day, amount in (
        (date(2026, 4, 5), "60"),
        (date(2026, 4, 6), "70"),
        (date(2026, 4, 7), "50"),
    ):
        Claim.objects.create(
            community=community,
            claimant=member,
            kind="hours",
            activity="training",
            date=day,
            fee=amount,
            payable=amount,
            choice="accept",
            status="approved",
        )
    [before] = payments.tax_year_totals(community, date(2026, 4, 5))
    [after] = payments.tax_year_totals(community, date(2026, 4, 6))
    assert (before.total, before.over_threshold) == (Decimal("60"), False)
    assert (after.total, after.over_threshold) == (Decimal("120"), True)


def test_the_finance_csv_lists_approved_claims_in_the_period(
    client, community, member, coordinator, rates, held
):
    claim = _claim(community, member, held, kind="travel", amount=Decimal("6.40"))
    payments.decide_claim(claim=claim, by=coordinator, action="approve")
    client.force_login(coordinator)
    response = client.get(reverse("engagement:manage_payments_csv", args=[community.slug]))
    lines = response.getvalue().decode().splitlines()
    assert lines[0].startswith("name,role,activity,date,hours,rate")
    assert member.email not in response.getvalue().decode()  # finance gets what it needs
    assert "Michael" in lines[1] and "55.00" in lines[1] and "61.40" in lines[1]


def test_members_see_only_their_own_claims(client, community, member, partner, rates, held):
    claim = _claim(community, member, held)
    client.force_login(partner)
    assert client.get(claim.get_absolute_url()).status_code == 404
    client.force_login(member)
    assert client.get(claim.get_absolute_url()).status_code == 200
    assert client.get(reverse("engagement:my_payments")).status_code == 200


def test_a_receipt_of_the_wrong_kind_is_refused_beside_the_field(
    client, community, member, rates, held
):
    client.force_login(member)
    fake = SimpleUploadedFile("receipt.pdf", b"MZ this is not a pdf", "application/pdf")
    response = client.post(
        reverse("engagement:claim_new", args=[community.slug]),
        {
            "kind": "session",
            "session": held.pk,
            "expenses-TOTAL_FORMS": "3",
            "expenses-INITIAL_FORMS": "0",
            "expenses-0-kind": "travel",
            "expenses-0-amount": "5",
            "expenses-0-receipt": fake,
        },
    )
    assert response.status_code == 200
    assert "not a JPG, PNG or PDF" in response.content.decode()
    assert not Claim.objects.exists()


def test_a_coordinator_cannot_approve_their_own_claim(community, coordinator, rates, held):
    Registration.objects.create(session=held, user=coordinator, status="registered", attended=True)
    claim = _claim(community, coordinator, held)
    with pytest.raises(PaymentError, match="Another coordinator"):
        payments.decide_claim(claim=claim, by=coordinator, action="approve")
    claim.refresh_from_db()
    assert claim.status == "submitted"


def test_a_coordinator_adds_the_suggested_starting_rates_once(client, community, coordinator):
    client.force_login(coordinator)
    url = reverse("engagement:manage_rates", args=[community.slug])
    page = client.get(url).content.decode()
    assert "Suggested starting rates" in page and "Attending a session" in page
    client.post(url, {"suggested": "1"})
    client.post(url, {"suggested": "1"})  # a second press adds nothing
    activities = sorted(community.rates.values_list("activity", flat=True))
    assert activities == sorted(
        ["session", "meeting", "preparation", "training", "cofacilitating", "role"]
    )
    assert all(rate.valid_from == timezone.localdate() for rate in community.rates.all())


def test_a_community_east_of_london_can_claim_a_session_that_just_ended(community, member, rates):
    community.time_zone = "Pacific/Kiritimati"  # UTC+14: already tomorrow there
    community.save()
    start = timezone.now() - timedelta(hours=3)
    session = Session.objects.create(
        community=community,
        title="Late",
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="completed",
    )
    Registration.objects.create(session=session, user=member, status="registered", attended=True)
    assert _claim(community, member, session).status == "submitted"


def test_the_same_claim_sent_twice_in_a_moment_is_kept_once(community, member, rates):
    Rate.objects.create(
        community=community,
        activity="training",
        basis="day",
        amount="150",
        valid_from=date(2025, 1, 1),
    )
    day = timezone.localdate() - timedelta(days=1)
    ask = payments.ClaimRequest(kind="hours", activity="training", date=day, hours=Decimal("2"))
    first = payments.submit_claim(
        community=community, claimant=member, by=member, request=ask, expenses=[]
    )
    again = payments.submit_claim(
        community=community, claimant=member, by=member, request=ask, expenses=[]
    )
    assert first.pk == again.pk and first.hours is None and first.fee == Decimal("150")
    # Three more day-rate claims make 32 hours: refused at the fourth (8 hours each).
    for text in ("b", "c"):
        ask.description = text
        payments.submit_claim(
            community=community, claimant=member, by=member, request=ask, expenses=[]
        )
    ask.description = "d"
    with pytest.raises(PaymentError, match="24 hours"):
        payments.submit_claim(
            community=community, claimant=member, by=member, request=ask, expenses=[]
        )


def test_expenses_and_charity_gifts_do_not_count_towards_the_threshold(community, member):
    PaymentSettings.objects.create(community=community, threshold=Decimal("100"))
    day = date(2026, 5, 1)
    gift = Claim.objects.create(
        community=community,
        claimant=member,
        kind="hours",
        activity="training",
        date=day,
        fee="150",
        payable="150",
        choice="charity",
        charity="A charity",
        status="approved",
    )
    gift.expenses.create(kind="travel", amount="150")
    [total] = payments.tax_year_totals(community, day)
    assert total.total == Decimal("300") and not total.over_threshold


def test_a_session_is_claimed_to_the_quarter_hour_and_not_for_longer(community, member, rates):
    start = timezone.now() - timedelta(days=2)
    session = Session.objects.create(
        community=community,
        title="Short",
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        status="completed",
    )
    Registration.objects.create(session=session, user=member, status="registered", attended=True)
    with pytest.raises(PaymentError, match="lasted 0.75 hours"):
        payments.submit_claim(
            community=community,
            claimant=member,
            by=member,
            request=payments.ClaimRequest(kind="session", session=session, hours=Decimal("5")),
            expenses=[],
        )
    assert _claim(community, member, session).hours == Decimal("0.75")


def test_a_strange_year_on_the_totals_page_is_ignored(client, community, coordinator):
    client.force_login(coordinator)
    url = reverse("engagement:manage_payment_totals", args=[community.slug])
    for value in ("0001-01-01", "9999-12-31", "soon"):
        assert client.get(url, {"year_of": value}).status_code == 200


def test_whoever_entered_a_claim_does_not_decide_it(community, member, coordinator, rates, held):
    from communities.models import Membership
    from tests.conftest import make_person

    Membership.objects.create(
        community=community, user=make_person("cleo@example.org"), role="coordinator"
    )
    claim = payments.submit_claim(
        community=community,
        claimant=member,
        by=coordinator,
        request=payments.ClaimRequest(kind="session", session=held),
        expenses=[],
    )
    with pytest.raises(PaymentError, match="You entered this claim"):
        payments.decide_claim(claim=claim, by=coordinator, action="approve")
