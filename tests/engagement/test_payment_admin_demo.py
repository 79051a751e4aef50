"""Paying people in the demo, the Django admin and a person's data download."""

import csv
import io
import json
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from communities.models import Community
from engagement import payments
from engagement.models import (
    Claim,
    Expense,
    PaidRole,
    PaymentChoice,
    PaymentSettings,
    Rate,
    Registration,
    Session,
)
from members.models import Notification, User
from members.personal_data import export_for

pytestmark = pytest.mark.django_db

PAYMENT_MODELS = [Rate, PaymentSettings, PaidRole, PaymentChoice, Claim, Expense]


@pytest.fixture
def demo(settings):
    # pytest-django runs tests with DEBUG off; the demo is for development sites.
    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())
    return Community.objects.get(slug="ibd-together")


@pytest.fixture(autouse=True)
def _receipts_elsewhere(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _rows():
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in PAYMENT_MODELS}


def _person(email) -> User:
    return User.objects.get(email=email)


# --- The demo -----------------------------------------------------------------------------------


def test_the_demo_sets_up_rates_a_budget_a_role_and_choices(demo):
    rates = {(r.activity, r.basis): r.amount for r in Rate.objects.filter(community=demo)}
    assert rates == {
        ("session", "hour"): Decimal("27.50"),
        ("meeting", "half_day"): Decimal("82.50"),
        ("preparation", "hour"): Decimal("27.50"),
        ("training", "day"): Decimal("165.00"),
        ("cofacilitating", "activity"): Decimal("90.00"),
    }
    settings_ = PaymentSettings.objects.get(community=demo)
    assert settings_.budget > settings_.threshold > 0
    role = PaidRole.objects.select_related("membership__user").get(membership__community=demo)
    assert role.title == "Microsystems coach"
    assert role.membership.user.email == "member@example.org"
    assert "patient" in role.membership.perspective_set.values_list("perspective", flat=True)
    choices = {
        c.membership.user.email: (c.choice, c.charity)
        for c in PaymentChoice.objects.filter(membership__community=demo).select_related(
            "membership__user"
        )
    }
    assert choices == {
        "bilal.hussain@example.org": ("charity", "Crohn's & Colitis UK"),
        "hannah.price@example.org": ("decline", ""),
    }


def test_the_demo_has_claims_in_each_state_worked_out_as_submit_claim_would(demo):
    claims = list(Claim.objects.filter(community=demo).select_related("rate", "paid_role"))
    assert {c.status for c in claims} == {"submitted", "queried", "approved", "paid"}
    for claim in claims:
        if claim.rate is not None:
            assert (claim.rate_amount, claim.rate_basis) == (claim.rate.amount, claim.rate.basis)
        else:
            assert claim.activity == "role"
            assert claim.rate_amount == claim.paid_role.hourly_rate
        assert claim.fee == payments.fee_for(
            basis=claim.rate_basis, amount=claim.rate_amount, hours=claim.hours
        )
        assert claim.date <= timezone.localdate()
    [queried] = [c for c in claims if c.status == "queried"]
    assert queried.question and queried.decided_by.email == "coordinator@example.org"
    paid = [c for c in claims if c.status == "paid"]
    assert paid and all(c.payment_reference and c.paid_on for c in paid)
    [flagged] = [c for c in claims if c.not_recorded_as_attending]
    assert flagged.kind == "session" and flagged.status == "submitted"
    assert flagged.claimant.email == "hannah.price@example.org"
    assert not Registration.objects.filter(
        session=flagged.session, user=flagged.claimant, attended=True
    ).exists()
    # Hannah declines payment for her time; her carer cover is still repaid.
    assert flagged.choice == "decline" and flagged.fee > 0 and flagged.payable == 0
    assert flagged.entered_by.email == "coordinator@example.org"
    [charity] = [c for c in claims if c.choice == "charity"]
    assert charity.charity == "Crohn's & Colitis UK" and charity.payable == charity.fee
    michael = _person("member@example.org")
    assert Claim.objects.filter(
        claimant=michael, session__title="First listening session", not_recorded_as_attending=False
    ).exists()
    expenses = Expense.objects.filter(claim__community=demo)
    assert {"travel", "carer"} <= set(expenses.values_list("kind", flat=True))
    assert not expenses.exclude(receipt="").exists()
    spent = payments.spending(demo, timezone.localdate())
    assert spent["spent"] > 0 and spent["budget"] == Decimal("5000.00")


def test_the_demo_tells_nobody_and_a_second_run_changes_nothing(demo, settings):
    assert not Notification.objects.filter(kind__startswith="claim").exists()
    notifications = Notification.objects.count()
    before = _rows()
    call_command("demo", stdout=io.StringIO())
    assert _rows() == before
    assert Notification.objects.count() == notifications


def test_the_demo_leaves_claims_a_coordinator_has_moved_on(demo, settings):
    waiting = Claim.objects.filter(community=demo, status="submitted").first()
    payments.decide_claim(claim=waiting, by=_person("coordinator@example.org"), action="approve")
    count = Claim.objects.count()
    call_command("demo", stdout=io.StringIO())
    assert Claim.objects.count() == count
    assert Claim.objects.get(pk=waiting.pk).status == "approved"


# --- The admin ----------------------------------------------------------------------------------


def _admin_urls(model, obj):
    opts = model._meta
    return (
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
    )


def test_staff_can_open_every_payments_admin_page(client, staff, demo):
    client.force_login(staff)
    for model in PAYMENT_MODELS:
        assert model in admin.site._registry
        changelist, _change = _admin_urls(model, model.objects.first())
        for query in ({}, {"q": "a"}, {"q": "hannah"}):
            assert client.get(changelist, query).status_code == 200, (model, query)
        for obj in model.objects.all():
            assert client.get(_admin_urls(model, obj)[1]).status_code == 200, obj


def test_the_claims_list_filters_by_status_and_attendance(client, staff, demo):
    client.force_login(staff)
    url = reverse("admin:engagement_claim_changelist")
    flagged = client.get(url, {"attendance": "unrecorded"})
    assert flagged.status_code == 200
    assert list(flagged.context["cl"].result_list) == list(
        Claim.objects.filter(not_recorded_as_attending=True)
    )
    assert client.get(url, {"status__exact": "paid"}).status_code == 200


def test_the_admin_shows_whether_there_is_a_receipt_but_never_links_it(client, staff, demo):
    expense = Expense.objects.filter(claim__community=demo).first()
    expense.receipt.save("bus.pdf", io.BytesIO(b"%PDF-1.4 a ticket"), save=True)
    client.force_login(staff)
    for model, obj in [(Claim, expense.claim), (Expense, expense)]:
        changelist, change = _admin_urls(model, obj)
        for url in (changelist, change):
            page = client.get(url).content.decode()
            assert expense.receipt.name not in page and "receipts/" not in page
    # Whether there is one: the expense page's only yes-or-no field.
    page = client.get(_admin_urls(Expense, expense)[1]).content.decode()
    assert 'src="/static/admin/img/icon-yes.svg" alt="True"' in page


def test_the_admin_keeps_state_and_money_read_only(client, staff, demo):
    paid = Claim.objects.filter(community=demo, status="paid").first()
    client.force_login(staff)
    _changelist, change = _admin_urls(Claim, paid)
    form = client.get(change).context["adminform"].form
    assert set(form.fields) == {"description", "question", "answer", "decision_reason"}
    claim_admin = admin.site._registry[Claim]
    request = client.get(change).wsgi_request
    assert not claim_admin.has_add_permission(request)
    assert not claim_admin.has_delete_permission(request, paid)
    assert "delete_selected" not in claim_admin.get_actions(request)


# --- A person's data ----------------------------------------------------------------------------


@pytest.fixture
def claimed(community, member):
    Rate.objects.create(
        community=community,
        activity="session",
        basis="hour",
        amount="25",
        valid_from=date(2025, 1, 1),
    )
    start = timezone.now() - timedelta(days=2)
    session = Session.objects.create(
        community=community,
        title="Drop-in",
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="completed",
    )
    Registration.objects.create(session=session, user=member, status="registered", attended=True)
    payments.set_payment_choice(
        membership=member.memberships.get(), choice="charity", charity="A local food bank"
    )
    receipt = SimpleUploadedFile("ticket.pdf", b"%PDF-1.4 secret", "application/pdf")
    return payments.submit_claim(
        community=community,
        claimant=member,
        by=member,
        request=payments.ClaimRequest(kind="session", session=session),
        expenses=[
            {"kind": "travel", "amount": Decimal("6.40"), "receipt": receipt},
            {"kind": "carer", "amount": Decimal("20"), "description": "Sitter"},
        ],
    )


def test_the_export_holds_the_persons_claims_without_receipts(member, claimed, coordinator):
    data = export_for(member)
    [row] = data["claims"]
    assert row["community"] == "Bowel care together" and row["session"] == "Drop-in"
    assert row["for_your_time"] == "50.00" and row["charity"] == "A local food bank"
    assert row["expenses_total"] == "26.40" and row["receipts_held"] == 1
    assert "Travel: £6.40, receipt held" in row["expenses"]
    assert "no receipt" in row["expenses"]
    assert row["status"] == "Waiting for a coordinator"
    text = json.dumps(data, default=str)
    assert "secret" not in text and "receipts/" not in text
    assert data["payment_choices"] == [
        {
            "community": "Bowel care together",
            "choice": "Give it to a charity",
            "share_taken_percent": None,
            "charity": "A local food bank",
            "changed": member.memberships.get().payment_choice.updated_at,
        }
    ]
    # Only the person's own claims.
    assert export_for(coordinator)["claims"] == []


def test_the_download_has_a_claims_file(client, member, claimed):
    client.force_login(member)
    response = client.post("/me/data/download/")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"claims.csv", "payment_choices.csv"} <= set(archive.namelist())
    rows = list(csv.DictReader(io.StringIO(archive.read("claims.csv").decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["to_be_paid_for_time"] == "50.00"


def test_claims_are_kept_when_the_person_is_erased(member, claimed):
    from members.services import erase_person

    erase_person(user=member)
    assert Claim.objects.get(pk=claimed.pk).claimant.display_name == "a former member"
    assert Expense.objects.filter(claim=claimed).count() == 2


def test_a_demo_member_downloads_their_demo_claims(demo):
    rows = export_for(_person("member@example.org"))["claims"]
    assert {row["status"] for row in rows} == {"Paid", "Waiting for a coordinator"}
