"""Paying people through the pages: who may see and do what (the role matrix), bad input shown
beside the field with what was typed kept, and query counts that do not grow with the data.

The rules behind the pages (rates on a date, the tax year, the status table, the CSV, who is
told) are in test_payment_rules.py.
"""

from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from communities.models import Membership
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
from members.models import Notification
from tests.conftest import PERSONAS, client_as, make_person

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a bus ticket\n"
LOGIN = reverse("account_login")


@pytest.fixture(autouse=True)
def _receipts_elsewhere(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def another_member(community):
    person = make_person("mina@example.org", name="Mina")
    Membership.objects.create(user=person, community=community, role="member")
    return person


@pytest.fixture
def rates(community):
    for activity, basis, amount in [
        ("session", "hour", "25"),
        ("meeting", "half_day", "82.50"),
        ("training", "hour", "20"),
        ("preparation", "hour", "20"),
    ]:
        Rate.objects.create(
            community=community,
            activity=activity,
            basis=basis,
            amount=amount,
            valid_from=date(2025, 1, 1),
        )


def make_session(community, *, days_ago=3, title="Drop-in", attended=()):
    start = timezone.now() - timedelta(days=days_ago)
    session = Session.objects.create(
        community=community,
        title=title,
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="completed",
    )
    for person in attended:
        Registration.objects.create(
            session=session, user=person, status="registered", attended=True
        )
    return session


@pytest.fixture
def held(community, member, another_member):
    return make_session(community, attended=[member, another_member])


def receipt(name="bus.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type)


def submit(community, person, session, *, by=None, receipt_file=None):
    return payments.submit_claim(
        community=community,
        claimant=person,
        by=by or person,
        request=payments.ClaimRequest(kind="session", session=session),
        expenses=[
            {"kind": "travel", "amount": Decimal("6.40"), "receipt": receipt_file or receipt()}
        ],
    )


@pytest.fixture
def claim(community, member, rates, held):
    """Michael's claim for the drop-in he came to, with a bus fare and its receipt."""
    return submit(community, member, held)


def url(name, community, *args):
    return reverse(name, args=[community.slug, *args])


def claim_url(name, claim, *args):
    return reverse(f"engagement:{name}", args=[claim.community.slug, claim.pk, *args])


def field_block(html: str, name: str) -> str:
    """The HTML crispy-forms draws for one field: its label, input and errors."""
    start = html.index(f'id="div_id_{name}"')
    following = html.find('id="div_id_', start + 1)
    return unescape(html[start : following if following != -1 else len(html)])


def claim_data(**fields):
    """A claim form as the browser sends it: three empty expense rows unless filled."""
    data = {
        "kind": "", "session": "", "activity": "", "paid_role": "", "date": "", "hours": "",
        "description": "", "expenses-TOTAL_FORMS": "3", "expenses-INITIAL_FORMS": "0",
        "expenses-MIN_NUM_FORMS": "0", "expenses-MAX_NUM_FORMS": "6",
    }  # fmt: skip
    data.update(fields)
    return data


def told(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("email", flat=True))


# --- The role matrix -------------------------------------------------------------------------

# `member` is the claimant of the `claim` fixture; `another_member` is a member of the same
# community whom the claim is nothing to do with.
CLAIM_PERSONAS = [*PERSONAS, "another_member"]


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.url.startswith(LOGIN)


# Who may open each page: 200, 403 (no place in the community) or 404 (a claim that is not
# theirs to see). Anonymous visitors always go to the login page.
CLAIM_READERS = {"member": 200, "coordinator": 200, "staff": 200}
MEMBERS = {"member": 200, "another_member": 200, "partner": 200, "coordinator": 200}
COORDINATORS = {"coordinator": 200, "staff": 200}
PAGES = {
    # The claim page and its receipt: the claimant and the community's coordinators.
    "claim": (lambda c: claim_url("claim", c), CLAIM_READERS, 404),
    "receipt": (lambda c: claim_url("claim_receipt", c, c.expenses.get().pk), CLAIM_READERS, 404),
    # Making a claim: active members, and coordinators (who may enter one from paper).
    "new": (lambda c: url("engagement:claim_new", c.community), MEMBERS | {"staff": 200}, 403),
    # A person's choice about payment is theirs, in a community they belong to.
    "choice": (lambda c: url("engagement:payment_choice", c.community), MEMBERS, 403),
    "manage": (lambda c: url("engagement:manage_claims", c.community), COORDINATORS, 403),
    "rates": (lambda c: url("engagement:manage_rates", c.community), COORDINATORS, 403),
    "settings": (
        lambda c: url("engagement:manage_payment_settings", c.community),
        COORDINATORS,
        403,
    ),
    "totals": (lambda c: url("engagement:manage_payment_totals", c.community), COORDINATORS, 403),
    "csv": (lambda c: url("engagement:manage_payments_csv", c.community), COORDINATORS, 403),
}


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_who_may_open_each_page(client, request, claim, persona, page):
    link, allowed, refused = PAGES[page]
    client_as(client, request, persona)
    response = client.get(link(claim))
    if persona == "anonymous":
        assert is_login_redirect(response)
    else:
        assert response.status_code == allowed.get(persona, refused)


@pytest.mark.parametrize("persona", [p for p in CLAIM_PERSONAS if p != "anonymous"])
def test_my_payments_shows_only_my_own_claims(client, request, claim, persona):
    theirs = None
    person = client_as(client, request, persona)
    if persona in ("another_member", "partner", "coordinator"):
        session = make_session(
            claim.community, days_ago=5, title="Their session", attended=[person]
        )
        theirs = submit(claim.community, person, session)
    response = client.get(reverse("engagement:my_payments"))
    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    page = response.content.decode()
    if persona == "member":
        assert shown == [claim] and claim.get_absolute_url() in page
    else:
        assert shown == ([theirs] if theirs else [])
        assert claim.get_absolute_url() not in page


def test_my_payments_sends_visitors_to_log_in(client):
    assert is_login_redirect(client.get(reverse("engagement:my_payments")))


def test_the_receipt_is_the_file_uploaded_and_downloads(client, claim, member):
    client.force_login(member)
    response = client.get(claim_url("claim_receipt", claim, claim.expenses.get().pk))
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    # The uploader's file name is never used, on disk or in the download.
    assert "bus" not in claim.expenses.get().receipt.name
    assert "bus" not in response["Content-Disposition"]


def test_another_communitys_coordinator_never_sees_the_claim(
    client, claim, other_coordinator, other_community
):
    client.force_login(other_coordinator)
    # Not through their own community's address either.
    foreign = reverse("engagement:claim", args=[other_community.slug, claim.pk])
    assert client.get(foreign).status_code == 404
    expense = claim.expenses.get().pk
    receipt_there = reverse(
        "engagement:claim_receipt", args=[other_community.slug, claim.pk, expense]
    )
    assert client.get(receipt_there).status_code == 404
    for status in Claim.Status.values:
        listing = client.get(url("engagement:manage_claims", other_community), {"status": status})
        assert listing.context["page"].paginator.count == 0
    Claim.objects.filter(pk=claim.pk).update(status="approved")
    assert (
        client.get(url("engagement:manage_payment_totals", other_community)).context["totals"] == []
    )
    csv_text = (
        client.get(url("engagement:manage_payments_csv", other_community)).getvalue().decode()
    )
    assert csv_text.count("\n") == 1 and "Michael" not in csv_text
    # Their community's writes do not reach it either.
    for name in ("claim_decide", "claim_paid", "claim_answer", "claim_withdraw"):
        there = reverse(f"engagement:{name}", args=[other_community.slug, claim.pk])
        assert client.post(there, {"action": "approve"}).status_code == 404
    assert Claim.objects.get(pk=claim.pk).status == "approved"


def test_coordinators_list_only_their_own_communitys_claims(
    client, claim, coordinator, other_community, other_coordinator
):
    stranger = make_person("sam@example.org", name="Sam")
    Membership.objects.create(user=stranger, community=other_community)
    Rate.objects.create(
        community=other_community,
        activity="session",
        basis="hour",
        amount="30",
        valid_from=date(2025, 1, 1),
    )
    elsewhere = submit(
        other_community, stranger, make_session(other_community, attended=[stranger])
    )
    client.force_login(coordinator)
    listing = client.get(url("engagement:manage_claims", claim.community))
    assert list(listing.context["page"].object_list) == [claim]
    assert elsewhere.get_absolute_url() not in listing.content.decode()
    client.force_login(other_coordinator)
    listing = client.get(url("engagement:manage_claims", other_community))
    assert list(listing.context["page"].object_list) == [elsewhere]


# --- Writes in the matrix --------------------------------------------------------------------


def _state(claim):
    claim = Claim.objects.get(pk=claim.pk)
    return claim.status, claim.answer, claim.paid_on, claim.payment_reference


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
def test_who_may_answer_a_question(client, request, claim, coordinator, persona):
    payments.decide_claim(claim=claim, by=coordinator, action="query", text="Which bus?")
    before, told_before = _state(claim), Notification.objects.count()
    client_as(client, request, persona)
    response = client.post(claim_url("claim_answer", claim), {"answer": "The 52"})
    if persona == "member":
        assert response.status_code == 302 and response.url == claim.get_absolute_url()
        assert _state(claim)[:2] == ("submitted", "The 52")
        return
    if persona == "anonymous":
        assert is_login_redirect(response)
    elif persona in ("coordinator", "staff"):
        # They may see the claim, but only the claimant answers: told so on the claim page.
        page = client.get(response.url).content.decode()
        assert "Only the person who made the claim can answer." in page
    else:
        assert response.status_code == 404
    assert _state(claim) == before and Notification.objects.count() == told_before


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
def test_who_may_withdraw_a_claim(client, request, claim, persona):
    before = _state(claim)
    client_as(client, request, persona)
    response = client.post(claim_url("claim_withdraw", claim))
    if persona == "member":
        assert response.status_code == 302 and _state(claim)[0] == "withdrawn"
        return
    if persona == "anonymous":
        assert is_login_redirect(response)
    elif persona in ("coordinator", "staff"):
        page = client.get(response.url).content.decode()
        assert "Only the person who made the claim can withdraw it." in page
    else:
        assert response.status_code == 404
    assert _state(claim) == before


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
def test_who_may_decide_a_claim(client, request, claim, persona):
    before, told_before = _state(claim), Notification.objects.count()
    client_as(client, request, persona)
    response = client.post(claim_url("claim_decide", claim), {"action": "approve", "text": ""})
    if persona in ("coordinator", "staff"):
        assert response.status_code == 302 and _state(claim)[0] == "approved"
        assert told("claim_approved") == ["michael@example.org"]
        return
    if persona == "anonymous":
        assert is_login_redirect(response)
    else:
        # The claimant may see their claim but not decide it; others cannot see it at all.
        assert response.status_code == (403 if persona == "member" else 404)
    assert _state(claim) == before and Notification.objects.count() == told_before


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
def test_who_may_mark_a_claim_paid(client, request, claim, coordinator, persona):
    payments.decide_claim(claim=claim, by=coordinator, action="approve")
    before, told_before = _state(claim), Notification.objects.count()
    client_as(client, request, persona)
    today = timezone.localdate()
    response = client.post(
        claim_url("claim_paid", claim), {"paid_on": today, "reference": "BACS 1"}
    )
    if persona in ("coordinator", "staff"):
        assert response.status_code == 302
        assert _state(claim) == ("paid", "", today, "BACS 1")
        assert told("claim_paid") == ["michael@example.org"]
        return
    if persona == "anonymous":
        assert is_login_redirect(response)
    else:
        assert response.status_code == (403 if persona == "member" else 404)
    assert _state(claim) == before and Notification.objects.count() == told_before


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
def test_who_may_make_a_claim(client, request, community, rates, held, persona):
    person = client_as(client, request, persona)
    response = client.post(
        url("engagement:claim_new", community), claim_data(kind="session", session=held.pk)
    )
    if persona == "anonymous":
        assert is_login_redirect(response) and not Claim.objects.exists()
    elif persona in ("outsider", "other_coordinator"):
        assert response.status_code == 403 and not Claim.objects.exists()
    elif persona == "staff":
        # Site staff may enter claims from paper, but have no place to claim for themselves.
        assert response.status_code == 200
        assert "Claims are for active members of the community." in response.content.decode()
        assert not Claim.objects.exists()
    else:
        [made] = Claim.objects.all()
        assert response.status_code == 302 and response.url == made.get_absolute_url()
        assert made.claimant == person and made.entered_by is None
        # Michael and Mina came; Cora and Parveen are not recorded as coming.
        assert made.not_recorded_as_attending == (persona in ("partner", "coordinator"))


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
def test_who_may_set_a_payment_choice(client, request, community, persona):
    person = client_as(client, request, persona)
    response = client.post(url("engagement:payment_choice", community), {"choice": "decline"})
    if persona in MEMBERS:
        assert response.status_code == 302 and response.url == reverse("engagement:my_payments")
        assert PaymentChoice.objects.get().membership.user == person
        return
    if persona == "anonymous":
        assert is_login_redirect(response)
    else:
        assert response.status_code == 403
    assert not PaymentChoice.objects.exists()


MANAGE_WRITES = {
    "manage_rates": {
        "activity": "training",
        "basis": "hour",
        "amount": "22",
        "valid_from": "2026-01-01",
    },
    "manage_payment_settings": {"budget": "5000", "threshold": "1000"},
}


@pytest.mark.parametrize("persona", CLAIM_PERSONAS)
@pytest.mark.parametrize("page", MANAGE_WRITES)
def test_who_may_change_rates_and_settings(client, request, community, persona, page):
    client_as(client, request, persona)
    response = client.post(url(f"engagement:{page}", community), MANAGE_WRITES[page])
    if persona in COORDINATORS:
        assert response.status_code == 302
        assert (
            Rate.objects.exists()
            if page == "manage_rates"
            else (PaymentSettings.objects.get().budget == Decimal("5000"))
        )
        return
    if persona == "anonymous":
        assert is_login_redirect(response)
    else:
        assert response.status_code == 403
    assert not Rate.objects.exists() and not PaymentSettings.objects.exists()


def test_a_member_cannot_enter_a_claim_for_someone_else(
    client, community, member, another_member, rates, held
):
    client.force_login(member)
    response = client.post(
        url("engagement:claim_new", community) + "?for=someone",
        claim_data(claimant=another_member.email, kind="session", session=held.pk),
    )
    assert response.status_code == 302
    [made] = Claim.objects.all()
    assert made.claimant == member and made.entered_by is None


def test_a_partners_claim_page_is_not_a_way_into_anothers_receipt(
    client, community, claim, partner, rates
):
    mine = submit(community, partner, make_session(community, days_ago=6, attended=[partner]))
    client.force_login(partner)
    # Their own claim's address with someone else's expense number.
    theirs = claim.expenses.get().pk
    assert client.get(claim_url("claim_receipt", mine, theirs)).status_code == 404
    assert client.get(claim_url("claim_receipt", mine, mine.expenses.get().pk)).status_code == 200


def test_a_receipt_that_is_not_there_is_404(client, claim, member):
    Expense.objects.filter(claim=claim).update(receipt="")
    client.force_login(member)
    assert client.get(claim_url("claim_receipt", claim, claim.expenses.get().pk)).status_code == 404


# --- Bad input through the pages -------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-5", "The amount must be more than nothing."),
        ("0", "The amount must be more than nothing."),
        ("2000.01", "That is more than we repay for one expense: check the amount."),
        ("9999", "That is more than we repay for one expense: check the amount."),
        ("99999999", "Ensure that there are no more than 7 digits before the decimal point."),
        ("twelve", "Enter an amount in pounds, such as 12.50."),
    ],
)
def test_an_expense_amount_out_of_bounds_is_shown_beside_it(
    client, community, member, rates, held, amount, message
):
    client.force_login(member)
    data = claim_data(
        kind="session",
        session=held.pk,
        **{
            "expenses-0-kind": "travel",
            "expenses-0-description": "Bus",
            "expenses-0-amount": amount,
        },
    )
    response = client.post(url("engagement:claim_new", community), data)
    assert response.status_code == 200
    page = response.content.decode()
    block = field_block(page, "expenses-0-amount")
    assert message in block and f'value="{amount}"' in block
    # What else was typed is kept too.
    assert 'value="Bus"' in field_block(page, "expenses-0-description")
    assert not Claim.objects.exists()


def test_an_amount_typed_wrongly_is_not_also_called_missing(client, community, member, rates, held):
    """An amount was typed, so "Give the amount." beside the amount's own error contradicts
    what the person can see in the box."""
    client.force_login(member)
    data = claim_data(
        kind="session",
        session=held.pk,
        **{
            "expenses-0-kind": "travel",
            "expenses-0-description": "Bus",
            "expenses-0-amount": "12,50",
        },
    )
    response = client.post(url("engagement:claim_new", community), data)
    block = field_block(response.content.decode(), "expenses-0-amount")
    assert "Enter an amount in pounds, such as 12.50." in block
    assert "Give the amount." not in block


def test_the_largest_expense_allowed_is_accepted(client, community, member, rates, held):
    client.force_login(member)
    data = claim_data(
        kind="session", session=held.pk, **{"expenses-0-kind": "carer", "expenses-0-amount": "2000"}
    )
    assert client.post(url("engagement:claim_new", community), data).status_code == 302
    assert Claim.objects.get().expenses_total == Decimal("2000")


@pytest.mark.parametrize(
    "hours, message",
    [
        ("25", "No more than 24 hours in a day."),
        ("24.25", "No more than 24 hours in a day."),
        ("0", "At least a quarter of an hour."),
        ("-2", "At least a quarter of an hour."),
        ("", "Give the number of hours."),
    ],
)
def test_hours_out_of_bounds_are_shown_beside_them(
    client, community, member, rates, hours, message
):
    client.force_login(member)
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    data = claim_data(
        kind="hours", activity="training", date=day, hours=hours, description="Read the papers"
    )
    response = client.post(url("engagement:claim_new", community), data)
    assert response.status_code == 200
    page = response.content.decode()
    block = field_block(page, "hours")
    assert message in block and (f'value="{hours}"' in block if hours else True)
    assert f'value="{day}"' in field_block(page, "date")
    assert 'value="Read the papers"' in field_block(page, "description")
    assert not Claim.objects.exists()


def test_more_than_24_hours_on_one_day_across_claims_is_refused(client, community, member, rates):
    client.force_login(member)
    day = timezone.localdate() - timedelta(days=2)
    first = claim_data(kind="hours", activity="training", date=day.isoformat(), hours="20")
    assert client.post(url("engagement:claim_new", community), first).status_code == 302
    second = claim_data(kind="hours", activity="preparation", date=day.isoformat(), hours="4.5")
    response = client.post(url("engagement:claim_new", community), second)
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert f"That would make more than 24 hours claimed on {day.day} {day:%B %Y}." in page
    assert 'value="4.5"' in field_block(response.content.decode(), "hours")
    assert Claim.objects.count() == 1


def test_a_future_date_is_shown_beside_the_date(client, community, member, rates):
    client.force_login(member)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(
        url("engagement:claim_new", community),
        claim_data(kind="hours", activity="training", date=tomorrow, hours="2"),
    )
    assert response.status_code == 200
    block = field_block(response.content.decode(), "date")
    assert "The date cannot be in the future." in block and f'value="{tomorrow}"' in block
    assert not Claim.objects.exists()


def test_a_session_not_attended_is_allowed_and_flagged_for_the_coordinator(
    client, community, partner, coordinator, rates, held
):
    client.force_login(partner)
    form = client.get(url("engagement:claim_new", community)).content.decode()
    # Before claiming, the person sees it is not recorded that they came.
    assert "Drop-in" in form and "– not recorded as coming" in unescape(form)
    response = client.post(
        url("engagement:claim_new", community), claim_data(kind="session", session=held.pk)
    )
    claim = Claim.objects.get()
    assert response.status_code == 302 and claim.not_recorded_as_attending
    flag = (
        "This claim is for a session the person is not recorded as coming to. "
        "Check the attendance before approving."
    )
    client.force_login(coordinator)
    assert flag in client.get(claim.get_absolute_url()).content.decode()
    listing = client.get(url("engagement:manage_claims", community)).content.decode()
    assert "<strong>Not recorded as coming</strong>" in listing


def test_a_session_attended_is_not_flagged(client, community, member, coordinator, claim):
    client.force_login(coordinator)
    assert "not recorded as coming" not in client.get(claim.get_absolute_url()).content.decode()
    listing = client.get(url("engagement:manage_claims", community)).content.decode()
    assert "Not recorded as coming" not in listing


def test_two_claims_for_one_session_are_refused_with_a_message(
    client, community, member, rates, held
):
    client.force_login(member)
    data = claim_data(kind="session", session=held.pk)
    assert client.post(url("engagement:claim_new", community), data).status_code == 302
    response = client.post(url("engagement:claim_new", community), data)
    assert response.status_code == 200
    assert "There is already a claim for this session." in response.content.decode()
    assert Claim.objects.count() == 1
    # Once withdrawn, the session can be claimed again.
    payments.withdraw_claim(claim=Claim.objects.get(), by=member)
    assert client.post(url("engagement:claim_new", community), data).status_code == 302
    assert Claim.objects.count() == 2


@pytest.mark.parametrize(
    "upload, message",
    [
        # A program renamed: the name says PDF, the content does not.
        (("receipt.pdf", b"MZ\x90\x00\x03 a program", "application/pdf"),
         "That file is not a JPG, PNG or PDF, whatever its name says."),
        (("photo.png", b"%PDF-1.4 a pdf called png", "image/png"),
         "That file is not a JPG, PNG or PDF, whatever its name says."),
        (("receipt.exe", b"MZ\x90\x00\x03 a program", "application/octet-stream"),
         "That file is not a JPG, PNG or PDF, whatever its name says."),
        (("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf"),
         "The receipt is too large: keep it under 5 MB."),
    ],
)  # fmt: skip
def test_a_receipt_of_the_wrong_type_or_too_large_is_shown_beside_it(
    client, community, member, rates, held, upload, message
):
    client.force_login(member)
    data = claim_data(
        kind="session",
        session=held.pk,
        **{
            "expenses-0-kind": "travel",
            "expenses-0-amount": "6.40",
            "expenses-0-receipt": SimpleUploadedFile(*upload),
        },
    )
    response = client.post(url("engagement:claim_new", community), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in field_block(page, "expenses-0-receipt")
    assert 'value="6.40"' in field_block(page, "expenses-0-amount")
    assert not Claim.objects.exists() and not Expense.objects.exists()


@pytest.mark.parametrize(
    "name, head",
    [("scan.jpg", b"\xff\xd8\xff\xe0"), ("scan.JPEG", b"\xff\xd8\xff\xe1"),
     ("scan.png", b"\x89PNG\r\n\x1a\n"), ("scan.pdf", b"%PDF-1.7")],
)  # fmt: skip
def test_receipts_of_the_right_type_up_to_5_mb_are_kept(
    client, community, member, rates, held, name, head
):
    client.force_login(member)
    content = head + b"0" * (5 * 1024 * 1024 - len(head))  # exactly 5 MB
    data = claim_data(
        kind="session",
        session=held.pk,
        **{
            "expenses-0-kind": "travel",
            "expenses-0-amount": "6.40",
            "expenses-0-receipt": SimpleUploadedFile(name, content),
        },
    )
    assert client.post(url("engagement:claim_new", community), data).status_code == 302
    stored = Expense.objects.get().receipt
    assert stored.size == 5 * 1024 * 1024 and stored.name.endswith(name.rsplit(".")[-1].lower())


def test_a_receipt_without_an_amount_is_not_dropped_silently(
    client, community, member, rates, held
):
    """An expense row with a receipt and a kind but no amount is half filled in: the person
    must be told, not have the receipt thrown away while the claim goes through."""
    client.force_login(member)
    data = claim_data(
        kind="session",
        session=held.pk,
        **{
            "expenses-0-kind": "travel",
            "expenses-0-receipt": receipt(),
        },
    )
    response = client.post(url("engagement:claim_new", community), data)
    assert response.status_code == 200, "the claim was saved and the receipt dropped"
    assert "Give the amount." in field_block(response.content.decode(), "expenses-0-amount")


def test_no_rate_for_the_date_says_so_clearly(client, community, member, rates):
    client.force_login(member)
    data = claim_data(kind="hours", activity="training", date="2024-12-31", hours="3")
    response = client.post(url("engagement:claim_new", community), data)
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert (
        "There is no rate for “Training” on 31 December 2024 yet, so this cannot be worked "
        "out. A coordinator adds rates under Manage, Payments, Rates; your claim is not lost, "
        "you can send it again then."
    ) in page
    assert 'value="2024-12-31"' in field_block(page, "date")
    assert 'value="3"' in field_block(page, "hours")
    assert not Claim.objects.exists()


@pytest.mark.parametrize("action", ["query", "reject"])
def test_a_question_or_a_refusal_needs_words(client, claim, coordinator, action):
    client.force_login(coordinator)
    response = client.post(claim_url("claim_decide", claim), {"action": action, "text": "   "})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Write the question, or say why not." in field_block(page, "text")
    # The decision chosen is kept.
    assert f'value="{action}"' in page and "checked" in page.split(f'value="{action}"')[1][:40]
    assert _state(claim)[0] == "submitted"
    assert told("claim_queried") == told("claim_rejected") == []


def test_paid_with_a_future_date_is_shown_beside_the_date(client, claim, coordinator):
    payments.decide_claim(claim=claim, by=coordinator, action="approve")
    client.force_login(coordinator)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(
        claim_url("claim_paid", claim), {"paid_on": tomorrow, "reference": "R 9"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    block = field_block(page, "paid_on")
    assert "The payment date cannot be in the future." in block
    assert f'value="{tomorrow}"' in block
    assert 'value="R 9"' in field_block(page, "reference")
    assert _state(claim) == ("approved", "", None, "")
    assert told("claim_paid") == []


def test_paid_without_a_reference_or_with_a_bad_date_is_shown_beside_them(
    client, claim, coordinator
):
    payments.decide_claim(claim=claim, by=coordinator, action="approve")
    client.force_login(coordinator)
    response = client.post(
        claim_url("claim_paid", claim), {"paid_on": "31/02/2026", "reference": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a date like 2026-03-31." in field_block(page, "paid_on")
    assert "This field is required." in field_block(page, "reference")
    assert _state(claim)[0] == "approved"


def test_a_coordinator_enters_a_claim_from_paper(
    client, community, coordinator, member, rates, held, claim
):
    claim.delete()
    client.force_login(coordinator)
    form = client.get(url("engagement:claim_new", community) + "?for=someone").content.decode()
    # The form asks for the person's email address: the members are not listed.
    assert "Enter a claim for someone" in form and 'type="email" name="claimant"' in form
    assert "michael@example.org" not in form
    response = client.post(
        url("engagement:claim_new", community) + "?for=someone",
        claim_data(claimant=member.email, kind="session", session=held.pk, hours="1.5"),
    )
    made = Claim.objects.get()
    assert response.status_code == 302 and response.url == made.get_absolute_url()
    assert (made.claimant, made.entered_by) == (member, coordinator)
    assert not made.not_recorded_as_attending  # Michael's attendance, not Cora's
    assert made.fee == Decimal("37.50")
    assert "(entered from paper)" in client.get(made.get_absolute_url()).content.decode()
    # Michael sees it among his claims.
    client.force_login(member)
    assert list(client.get(reverse("engagement:my_payments")).context["page"].object_list) == [made]


def test_a_coordinator_enters_a_paid_roles_hours_from_paper(client, community, coordinator, member):
    """Paper claims include a paid role's hours: the roles offered are the claimant's."""
    role = PaidRole.objects.create(
        membership=member.memberships.get(),
        title="Coach",
        hours_per_month=8,
        hourly_rate=Decimal("18"),
        starts_on=timezone.localdate() - timedelta(days=30),
    )
    client.force_login(coordinator)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        url("engagement:claim_new", community) + "?for=someone",
        claim_data(
            claimant=member.email,
            kind="hours",
            activity="role",
            paid_role=role.pk,
            date=day,
            hours="2",
        ),
    )

    assert response.status_code == 302, response.context["form"].errors
    made = Claim.objects.get()
    assert (made.claimant, made.entered_by, made.paid_role, made.fee) == (
        member,
        coordinator,
        role,
        Decimal("36.00"),
    )


def test_a_paper_claim_must_say_whose_it_is(client, community, coordinator, rates, held):
    client.force_login(coordinator)
    response = client.post(
        url("engagement:claim_new", community) + "?for=someone",
        claim_data(claimant="", kind="session", session=held.pk, description="From the form"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in field_block(page, "claimant")
    assert 'value="From the form"' in field_block(page, "description")
    assert not Claim.objects.exists()


def test_a_paper_claim_is_only_for_the_communitys_members(
    client, community, coordinator, outsider, rates, held
):
    client.force_login(coordinator)
    response = client.post(
        url("engagement:claim_new", community) + "?for=someone",
        claim_data(claimant=outsider.email, kind="session", session=held.pk),
    )
    assert response.status_code == 200
    assert (
        f"No active member of this community has the email address {outsider.email}."
        in field_block(response.content.decode(), "claimant")
    )
    assert not Claim.objects.exists()


def test_a_lower_share_needs_a_percentage(client, community, member):
    client.force_login(member)
    response = client.post(
        url("engagement:payment_choice", community), {"choice": "lower", "charity": ""}
    )
    assert response.status_code == 200
    page = response.content.decode()
    block = field_block(page, "lower_percent")
    assert "Say what share you will take, from 1 to 99." in block
    assert block.count("invalid-feedback") == 1, "one message beside the field, not two"
    assert 'value="lower"' in page and "checked" in page.split('value="lower"')[1][:40]
    assert not PaymentChoice.objects.exists()


@pytest.mark.parametrize("percent", ["0", "100", "-10"])
def test_a_lower_share_out_of_range_is_refused(client, community, member, percent):
    client.force_login(member)
    response = client.post(
        url("engagement:payment_choice", community), {"choice": "lower", "lower_percent": percent}
    )
    assert response.status_code == 200
    block = field_block(response.content.decode(), "lower_percent")
    assert "invalid-feedback" in block and f'value="{percent}"' in block
    assert not PaymentChoice.objects.exists()


def test_a_charity_needs_a_name(client, community, member):
    client.force_login(member)
    response = client.post(
        url("engagement:payment_choice", community), {"choice": "charity", "charity": "  "}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Say which charity." in field_block(page, "charity")
    assert not PaymentChoice.objects.exists()


def test_a_choice_is_saved_and_applies_to_claims_from_then_on(
    client, community, member, rates, held
):
    client.force_login(member)
    client.post(
        url("engagement:payment_choice", community),
        {"choice": "charity", "charity": " Bowel Cancer UK "},
    )
    saved = PaymentChoice.objects.get()
    assert (saved.choice, saved.charity, saved.lower_percent) == (
        "charity",
        "Bowel Cancer UK",
        None,
    )
    page = client.get(url("engagement:payment_choice", community)).content.decode()
    assert 'value="Bowel Cancer UK"' in field_block(page, "charity")
    client.post(url("engagement:claim_new", community), claim_data(kind="session", session=held.pk))
    made = Claim.objects.get()
    assert (made.choice, made.charity, made.payable) == (
        "charity",
        "Bowel Cancer UK",
        Decimal("50"),
    )
    assert "to Bowel Cancer UK" in client.get(made.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "amount, message",
    [
        ("5000.01", "That is more than any rate we expect."),
        ("-1", "Ensure this value is greater than or equal to 0.01."),
        ("0", "Ensure this value is greater than or equal to 0.01."),
    ],
)
def test_a_rate_out_of_bounds_is_shown_beside_it(client, community, coordinator, amount, message):
    client.force_login(coordinator)
    response = client.post(
        url("engagement:manage_rates", community),
        {
            "activity": "session",
            "basis": "hour",
            "amount": amount,
            "valid_from": "2026-01-01",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    block = field_block(page, "amount")
    assert message in block and f'value="{amount}"' in block
    assert 'value="2026-01-01"' in field_block(page, "valid_from")
    assert not Rate.objects.exists()


def test_a_second_rate_on_the_same_day_is_refused(client, community, coordinator, rates):
    client.force_login(coordinator)
    response = client.post(
        url("engagement:manage_rates", community),
        {
            "activity": "session",
            "basis": "hour",
            "amount": "30",
            "valid_from": "2025-01-01",
        },
    )
    assert response.status_code == 200
    block = field_block(response.content.decode(), "valid_from")
    assert "There is already a rate for this activity from this date." in block
    assert Rate.objects.get(activity="session").amount == Decimal("25")


def test_a_negative_budget_or_threshold_is_refused(client, community, coordinator):
    client.force_login(coordinator)
    response = client.post(
        url("engagement:manage_payment_settings", community),
        {"budget": "-100", "threshold": "-0.01"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="-100"' in field_block(page, "budget")
    assert "greater than or equal to 0" in field_block(page, "threshold")
    assert not PaymentSettings.objects.exists()  # a refused save writes nothing


def test_a_paid_role_is_added_and_claimed_for_at_its_rate(client, community, coordinator, member):
    client.force_login(coordinator)
    response = client.post(
        url("engagement:manage_payment_settings", community),
        {
            "add_role": "1",
            "person": member.email,
            "title": "Microsystems coach",
            "hours_per_month": "8",
            "hourly_rate": "18.50",
            "starts_on": "2026-01-01",
        },
    )
    assert response.status_code == 302
    role = PaidRole.objects.get()
    assert role.membership.user == member
    client.force_login(member)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        url("engagement:claim_new", community),
        claim_data(kind="hours", activity="role", paid_role=role.pk, date=day, hours="3"),
    )
    made = Claim.objects.get()
    assert response.status_code == 302
    assert (made.paid_role, made.rate_amount, made.fee) == (
        role,
        Decimal("18.50"),
        Decimal("55.50"),
    )


def test_a_paid_role_must_be_chosen_and_be_ones_own(
    client, community, member, another_member, rates
):
    theirs = PaidRole.objects.create(
        membership=another_member.memberships.get(),
        title="Coach",
        hours_per_month=4,
        hourly_rate="20",
    )
    client.force_login(member)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    missing = client.post(
        url("engagement:claim_new", community),
        claim_data(kind="hours", activity="role", date=day, hours="2"),
    )
    assert "Choose the paid role." in field_block(missing.content.decode(), "paid_role")
    borrowed = client.post(
        url("engagement:claim_new", community),
        claim_data(kind="hours", activity="role", paid_role=theirs.pk, date=day, hours="2"),
    )
    assert "Select a valid choice." in field_block(borrowed.content.decode(), "paid_role")
    assert not Claim.objects.exists()


def test_marking_paid_a_claim_not_approved_says_why(client, claim, coordinator):
    """Two coordinators at once: one marks the claim paid, the other's page is out of date.
    The refusal must be on the page the second one gets back, not lost."""
    payments.decide_claim(claim=claim, by=coordinator, action="approve")
    payments.mark_paid(claim=claim, by=coordinator, paid_on=timezone.localdate(), reference="A")
    client.force_login(coordinator)
    data = {"paid_on": timezone.localdate(), "reference": "B"}
    response = client.post(claim_url("claim_paid", claim), data, follow=True)
    assert response.redirect_chain[0][1] == 302
    page = unescape(response.content.decode())
    assert "This claim is already “Paid”." in page, "the refusal is not shown"
    assert _state(claim)[3] == "A"


def test_a_coordinator_does_not_decide_their_own_claim(client, community, coordinator, rates):
    own = submit(community, coordinator, make_session(community, attended=[coordinator]))
    client.force_login(coordinator)
    page = client.get(own.get_absolute_url()).content.decode()
    assert claim_url("claim_decide", own) not in page and claim_url("claim_withdraw", own) in page
    response = client.post(claim_url("claim_decide", own), {"action": "approve"})
    assert response.status_code == 400
    assert "Another coordinator decides on and pays your own claims" in response.content.decode()
    assert _state(own)[0] == "submitted" and told("claim_approved") == []


def test_deciding_a_claim_already_decided_says_why(client, claim, coordinator):
    payments.decide_claim(claim=claim, by=coordinator, action="reject", text="Not ours to pay.")
    client.force_login(coordinator)
    response = client.post(claim_url("claim_decide", claim), {"action": "approve"})
    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert "A claim that is “Not approved” cannot become “Approved”." in page
    assert _state(claim)[0] == "rejected"


def test_answering_twice_says_why(client, claim, coordinator, member):
    payments.decide_claim(claim=claim, by=coordinator, action="query", text="Which bus?")
    client.force_login(member)
    client.post(claim_url("claim_answer", claim), {"answer": "The 52"})
    again = client.post(claim_url("claim_answer", claim), {"answer": "The 53"}, follow=True)
    page = unescape(again.content.decode())
    assert "This claim is already “Waiting for a coordinator”." in page
    assert _state(claim)[1] == "The 52"


def test_an_empty_answer_is_refused(client, claim, coordinator, member):
    payments.decide_claim(claim=claim, by=coordinator, action="query", text="Which bus?")
    client.force_login(member)
    response = client.post(claim_url("claim_answer", claim), {"answer": "  "}, follow=True)
    assert "Write your answer." in response.content.decode()
    assert _state(claim)[:2] == ("queried", "")
    assert told("claim_answered") == []


# --- Query counts ----------------------------------------------------------------------------


def make_claims(community, people, count, *, status="submitted", expenses=2):
    """`count` claims spread over `people`, each with expenses; quicker than the service."""
    today = timezone.localdate()
    for i in range(count):
        session = make_session(community, days_ago=i + 1, title=f"S{i}") if i % 2 else None
        claim = Claim.objects.create(
            community=community,
            claimant=people[i % len(people)],
            kind="hours",
            activity="training",
            session=session,
            date=today - timedelta(days=i % 200),
            hours=1,
            fee="20",
            payable="20",
            choice="accept",
            status=status,
            not_recorded_as_attending=bool(i % 3),
            answer="yes" if i % 4 else "",
        )
        for _n in range(expenses):
            Expense.objects.create(
                claim=claim, kind="travel", amount="3.50", receipt=receipt(f"r{i}.pdf")
            )


def people_of(community, count, prefix):
    people = []
    for i in range(count):
        person = make_person(f"{prefix}{i}@example.org", name=f"Person {prefix}{i}")
        Membership.objects.create(user=person, community=community)
        people.append(person)
    return people


@pytest.mark.parametrize("count", [3, 30])
def test_my_payments_does_not_grow_with_claims(
    client, community, other_community, member, count, django_assert_num_queries
):
    Membership.objects.create(user=member, community=other_community)
    make_claims(community, [member], count)
    make_claims(other_community, [member], count, status="approved")
    client.force_login(member)
    # session, user; the claims: count, the page of them (with community, claimant and
    # session), their expenses; this tax year's total for time, and for expenses; the
    # person's active memberships (with their communities).
    with django_assert_num_queries(8):
        response = client.get(reverse("engagement:my_payments"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(2 * count, 25)


@pytest.mark.parametrize("count", [3, 30])
def test_the_claims_list_does_not_grow_with_claims(
    client, community, coordinator, count, django_assert_num_queries
):
    make_claims(community, people_of(community, count, f"p{count}-"), count)
    PaymentSettings.objects.create(community=community, budget="1000")
    client.force_login(coordinator)
    # session, user, community, may they coordinate; the claims: count, the page of them
    # (with community, claimant and session), their expenses; spending this tax year (time,
    # expenses, and the community's budget: 1).
    with django_assert_num_queries(8):
        response = client.get(url("engagement:manage_claims", community))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count, 25)


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize("persona", ["member", "coordinator"])
def test_the_claim_page_does_not_grow_with_claims(
    client,
    request,
    community,
    member,
    coordinator,
    claim,
    count,
    persona,
    django_assert_num_queries,
):
    make_claims(community, [member], count)
    Expense.objects.bulk_create(Expense(claim=claim, kind="other", amount="1") for _ in range(4))
    Claim.objects.filter(pk=claim.pk).update(entered_by=coordinator)
    client.force_login(request.getfixturevalue(persona))
    # session, user, community, the claim (with community, claimant and session), its
    # expenses, may they coordinate (who entered it comes with the claim).
    with django_assert_num_queries(6):
        response = client.get(claim.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count("– £") == 5


@pytest.mark.parametrize("count", [3, 30])
def test_the_totals_page_does_not_grow_with_people(
    client, community, coordinator, count, django_assert_num_queries
):
    make_claims(community, people_of(community, count, f"t{count}-"), count, status="approved")
    PaymentSettings.objects.create(community=community, threshold="25")
    client.force_login(coordinator)
    # session, user, community, may they coordinate; the revisions of the claims and of
    # people's names (one query); then, not kept yet, time per person, expenses per person,
    # the community's settings (the threshold), the people themselves; the threshold shown.
    with django_assert_num_queries(9):
        response = client.get(url("engagement:manage_payment_totals", community))
    assert response.status_code == 200
    assert len(response.context["totals"]) == count
    # Kept: the revisions and the threshold shown.
    with django_assert_num_queries(6):
        again = client.get(url("engagement:manage_payment_totals", community))
    assert [t.total for t in again.context["totals"]] == [
        t.total for t in response.context["totals"]
    ]
