"""Paying people in the browser, on a phone and by keyboard: a member who came to a session
claims for their time and their travel (with a photo of the ticket), a coordinator asks a
question, the member answers it, the coordinator approves the claim and marks it paid, and
the member sees it paid and counted in this tax year. They are told by email at each step."""

import re
import struct
import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagement.models import Claim, Rate, Registration, Session, tax_year_of
from tests.e2e.keyboard import press, tab_to, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Was the train ticket a return? The receipt shows one way."
ANSWER = "It was two singles; the second is on the same receipt, further down."


def tiny_png() -> bytes:
    """A valid PNG of one white pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # one row: no filter, then a white pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def choose(page, radio, *, limit: int = 10) -> None:
    """Tab into the radio group, then move along it with the arrow keys until `radio` is
    chosen."""
    tab_to(page, page.locator(f"input[type=radio][name='{radio.get_attribute('name')}']").first)
    for _ in range(limit):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{radio} cannot be chosen with the arrow keys on {page.url}")


def fill_date(page, field, value: date) -> None:
    """Date inputs are typed differently in every locale: reach the field by keyboard, then
    fill it the way a date picker would."""
    tab_to(page, field)
    field.fill(value.isoformat())


def link_in(email, live_server) -> str:
    """The email's link, on the test server: emails address the site by SITE_URL."""
    link = re.search(r"https?://\S+", email.body.split("\n\n", 1)[-1]).group(0)
    return live_server.url + urlsplit(link).path


def emails_to(mailoutbox, person, subject: str) -> list:
    return [m for m in mailoutbox if m.to == [person.email] and subject in m.subject]


def a_session_this_tax_year(community) -> Session:
    """Two hours, two days ago; or, in the first days of a tax year, from its first midnight,
    so that what is claimed counts in this tax year whatever day the test runs."""
    now = timezone.now()
    first_day = tax_year_of(timezone.localdate())[0]
    start = max(now - timedelta(days=2), timezone.make_aware(datetime.combine(first_day, time())))
    return Session.objects.create(
        community=community,
        title="Drop-in at the library",
        kind=Session.Kind.DROP_IN,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=Session.Status.COMPLETED,
    )


def test_a_member_claims_a_coordinator_queries_approves_and_pays_and_the_member_sees_it_paid(
    page,
    browser,
    browser_context_args,
    live_server,
    mailoutbox,
    settings,
    tmp_path,
    assert_accessible,
    log_in,
    community,
    coordinator,
    member,
):
    settings.MEDIA_ROOT = tmp_path
    Rate.objects.create(
        community=community,
        activity="session",
        basis="hour",
        amount="27.50",
        valid_from=date(2025, 1, 1),
    )
    session = a_session_this_tax_year(community)
    Registration.objects.create(
        session=session, user=member, status=Registration.Status.REGISTERED, attended=True
    )
    session_day = timezone.localtime(session.starts_at, session.zone).date()

    # The member claims for the session they came to, and for their train fare.
    log_in(page, member)
    page.goto(live_server.url + "/me/payments/")
    expect(page.get_by_role("heading", name="My payments", level=1)).to_be_visible()
    expect(page.get_by_text("No claims yet.")).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name=f"claim for time or expenses ({community.name})"))
    expect(page.get_by_role("heading", name="Make a claim", level=1)).to_be_visible()
    expect(page.get_by_text("Your choice about payment: Accept payment.")).to_be_visible()
    assert_accessible(page)
    # Sent without saying which session: the message is beside the field, and what was
    # chosen stays.
    choose(page, page.get_by_role("radio", name="A session I came to"))
    press(page, page.get_by_role("button", name="Send the claim"))
    which = page.get_by_label("Which session")
    expect(which).to_have_attribute("aria-invalid", "true")
    expect(which).to_have_accessible_description(re.compile("Choose the session you came to."))
    expect(page.get_by_role("radio", name="A session I came to")).to_be_checked()
    assert_accessible(page)
    assert not Claim.objects.exists()
    tab_to(page, which)
    which.select_option(label=f"Drop-in at the library ({session_day:%-d %b %Y})")
    first = page.get_by_role("group", name="Expense 1")
    kind = first.get_by_label("Expense", exact=True)
    tab_to(page, kind)
    kind.select_option(label="Travel")
    type_into(page, first.get_by_label("What it was"), "Train to the library and back")
    type_into(page, first.get_by_label("Amount (£)"), "6.40")
    receipt = first.get_by_label("Receipt (optional)")
    tab_to(page, receipt)  # the file chooser itself belongs to the system
    receipt.set_input_files({"name": "ticket.png", "mimeType": "image/png", "buffer": tiny_png()})
    mailoutbox.clear()
    press(page, page.get_by_role("button", name="Send the claim"))

    expect(page.get_by_role("status")).to_contain_text("Claim sent. A coordinator will look at it.")
    expect(
        page.get_by_role("heading", name=f"Attending a session on {session_day:%-d %B %Y}", level=1)
    ).to_be_visible()
    expect(page.get_by_text("Waiting for a coordinator", exact=True)).to_be_visible()
    expect(page.get_by_text("Travel: Train to the library and back – £6.40")).to_be_visible()
    expect(page.get_by_text("Total: £61.40")).to_be_visible()
    assert_accessible(page)
    claim = Claim.objects.get()
    assert (claim.claimant, claim.session, claim.hours) == (member, session, 2)
    assert (claim.fee, claim.total) == (Decimal("55.00"), Decimal("61.40"))
    assert not claim.not_recorded_as_attending
    [expense] = claim.expenses.all()
    assert expense.receipt.name.endswith(".png")
    with expense.receipt.open("rb") as stored:
        assert stored.read() == tiny_png()
    assert emails_to(mailoutbox, coordinator, "A claim is waiting in")

    # The coordinator finds it under Manage, Payments, and asks a question.
    context = browser.new_context(**browser_context_args)
    theirs = context.new_page()
    log_in(theirs, coordinator)
    theirs.goto(live_server.url + community.get_absolute_url())
    press(theirs, theirs.get_by_role("link", name="Manage this community"))
    expect(theirs.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(theirs.get_by_role("link", name="1 claim waiting for you")).to_be_visible()
    assert_accessible(theirs)
    nav = theirs.get_by_role("navigation", name="Manage this community")
    press(theirs, nav.get_by_role("link", name="Payments"))
    expect(theirs.get_by_role("heading", name="Payments", level=1)).to_be_visible()
    claims = theirs.get_by_role("region", name=re.compile("^Claims"))
    expect(claims.get_by_role("row")).to_have_count(2)
    expect(claims.get_by_role("row").nth(1)).to_contain_text(
        "Attending a session: Drop-in at the library"
    )
    expect(claims.get_by_role("row").nth(1)).to_contain_text("£61.40")
    assert_accessible(theirs)
    press(theirs, claims.get_by_role("link", name="Michael"))
    expect(theirs.get_by_text("Waiting for a coordinator", exact=True)).to_be_visible()
    expect(theirs.locator("dd", has_text="Michael")).to_be_visible()
    assert_accessible(theirs)
    # The receipt is there for the coordinator to check.
    with theirs.expect_download() as download:
        press(theirs, theirs.get_by_role("link", name="receipt for expense 1"))
    assert download.value.suggested_filename == f"receipt-{claim.pk}-{expense.pk}.png"
    assert Path(download.value.path()).read_bytes() == tiny_png()

    choose(theirs, theirs.get_by_role("radio", name="Ask a question"))
    type_into(theirs, theirs.get_by_label("Your question, or why not"), QUESTION)
    press(theirs, theirs.get_by_role("button", name="Save the decision"))
    expect(theirs.get_by_role("status")).to_contain_text("Done. The person has been told.")
    expect(theirs.get_by_text("A coordinator asked a question", exact=True)).to_be_visible()
    expect(theirs.get_by_role("region", name="The coordinator's question")).to_contain_text(
        QUESTION
    )
    assert_accessible(theirs)

    # The member is told, and answers on the claim's page.
    [asked] = emails_to(mailoutbox, member, "A question about your claim to")
    assert QUESTION in asked.body
    page.goto(link_in(asked, live_server))
    expect(page.get_by_text("A coordinator asked a question", exact=True)).to_be_visible()
    question = page.get_by_role("region", name="The coordinator's question")
    expect(question).to_contain_text(QUESTION)
    assert_accessible(page)
    type_into(page, question.get_by_label("Your answer"), ANSWER)
    press(page, page.get_by_role("button", name="Send my answer"))
    expect(page.get_by_role("status")).to_contain_text("Answer sent to the coordinators.")
    expect(page.get_by_text("Waiting for a coordinator", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="The coordinator's question")).to_contain_text(
        f"Answer: {ANSWER}"
    )
    assert_accessible(page)
    assert emails_to(mailoutbox, coordinator, "A question about a claim was answered")

    # The coordinator sees the answer, approves the claim, then marks it paid.
    theirs.reload()
    expect(theirs.get_by_role("region", name="The coordinator's question")).to_contain_text(
        f"Answer: {ANSWER}"
    )
    choose(theirs, theirs.get_by_role("radio", name="Approve", exact=True))
    press(theirs, theirs.get_by_role("button", name="Save the decision"))
    expect(theirs.get_by_role("status")).to_contain_text("Done. The person has been told.")
    expect(theirs.get_by_text("Approved", exact=True)).to_be_visible()
    assert_accessible(theirs)
    assert emails_to(mailoutbox, member, "is approved")

    paid_on = timezone.localdate()
    fill_date(theirs, theirs.get_by_label("Paid on"), paid_on)
    type_into(theirs, theirs.get_by_label("Payment reference"), "BACS-2026-0042")
    press(theirs, theirs.get_by_role("button", name="Mark as paid"))
    expect(theirs.get_by_role("status")).to_contain_text(
        "Marked as paid. The person has been told."
    )
    expect(theirs.get_by_text("Paid", exact=True)).to_be_visible()
    expect(
        theirs.get_by_text(f"Paid on {paid_on:%-d %B %Y}, reference BACS-2026-0042.")
    ).to_be_visible()
    assert_accessible(theirs)
    context.close()

    # The member is told it is paid, and sees it paid and counted this tax year.
    [paid] = emails_to(mailoutbox, member, "is paid")
    assert "(£61.40)" in paid.body and "BACS-2026-0042" in paid.body
    page.goto(live_server.url + "/me/payments/")
    mine = page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name="Attending a session: Drop-in at the library")
    )
    expect(mine).to_contain_text("Paid")
    expect(mine).to_contain_text("£61.40")
    start, end = tax_year_of(timezone.localdate())
    expect(page.locator(".figures")).to_contain_text(
        f"£55.00 for your time, approved or paid, {start:%-d %b %Y} to {end:%-d %b %Y}"
    )
    expect(page.locator(".figures")).to_contain_text("£6.40 in expenses repaid")
    assert_accessible(page)
    claim.refresh_from_db()
    assert (claim.status, claim.paid_on, claim.payment_reference) == (
        Claim.Status.PAID,
        paid_on,
        "BACS-2026-0042",
    )
    assert (claim.question, claim.answer) == (QUESTION, ANSWER)
