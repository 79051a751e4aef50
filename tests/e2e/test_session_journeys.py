from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from communities.models import Membership
from engagement import services
from engagement.models import Registration, Session, Venue
from tests.conftest import make_person
from tests.e2e.keyboard import press, tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_registers_cancels_and_the_waiting_member_is_promoted(
    page, live_server, mailoutbox, assert_accessible, log_in, community, member
):
    venue = Venue.objects.create(
        community=community, name="Firth Park Community Centre", kind="community_centre",
        address="Firth Park Road, Sheffield", step_free=True,
    )  # fmt: skip
    start = timezone.now() + timedelta(days=5)
    session = Session.objects.create(
        community=community, title="Clear clinic letters", kind="workshop", starts_at=start,
        ends_at=start + timedelta(hours=2), venue=venue, capacity=1, status="published",
    )  # fmt: skip
    waiting = make_person("waiting@example.org", name="Wanjiru")
    Membership.objects.create(community=community, user=waiting, status="active")

    log_in(page, member)
    page.goto(live_server.url + community.get_absolute_url())
    press(page, page.get_by_role("link", name="Sessions: where and when we meet"))
    expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Clear clinic letters"))
    expect(page.get_by_text("Firth Park Community Centre (Community centre)")).to_be_visible()
    assert_accessible(page)
    tick(page, page.get_by_label("Wheelchair access"))
    press(page, page.get_by_role("button", name="Register"))
    expect(page.get_by_role("status")).to_contain_text("You have a place")
    assert_accessible(page)

    confirmation = mailoutbox[-1]
    assert confirmation.to == [member.email]
    [(filename, content, _type)] = confirmation.attachments
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert filename == "session.ics" and str(event["SUMMARY"]) == "Clear clinic letters"

    # Someone else joins the waiting list while the only place is taken.
    assert services.register(session=session, user=waiting).status == "waiting"

    press(page, page.get_by_role("button", name="Cancel my place"))
    expect(page.get_by_role("status")).to_contain_text("You have cancelled")
    # The place went to the person waiting, so the session is full again.
    expect(page.get_by_role("button", name="Join the waiting list")).to_be_visible()
    assert_accessible(page)

    assert Registration.objects.get(user=waiting).status == "registered"
    promoted = mailoutbox[-1]
    assert promoted.to == [waiting.email]
    assert "A place came free" in promoted.subject
    assert promoted.attachments[0][0] == "session.ics"
