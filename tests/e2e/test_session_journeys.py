from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from communities.models import Membership
from engagement import services
from engagement.models import Registration, Session, Venue
from tests.conftest import make_person
from tests.e2e.keyboard import press, tab_to, tick

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_registers_cancels_and_the_waiting_member_is_promoted(
    page, live_server, mailoutbox, assert_accessible, log_in, community, member
):
    venue = Venue.objects.create(
        community=community,
        name="Firth Park Community Centre",
        kind="community_centre",
        address="Firth Park Road, Sheffield",
        step_free=True,
    )
    start = timezone.now() + timedelta(days=5)
    session = Session.objects.create(
        community=community,
        title="Clear clinic letters",
        kind="workshop",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        venue=venue,
        capacity=1,
        status="published",
    )
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


def test_a_coordinator_plans_a_hosted_session_and_records_who_came(
    page, live_server, assert_accessible, log_in, community, coordinator, member
):
    from communities.models import PartnerOrganisation

    Venue.objects.create(community=community, name="Al-Noor Centre", kind="faith", step_free=True)
    community.partners.add(
        PartnerOrganisation.objects.create(name="Carers Together", kind="charity")
    )
    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/")
    press(page, page.get_by_role("link", name="Sessions", exact=True))
    expect(page.get_by_role("heading", name="Sessions", level=1)).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Plan a session"))
    expect(page.get_by_role("heading", name="Plan a session")).to_be_visible()
    assert_accessible(page)

    start = (timezone.localtime() + timedelta(days=7)).replace(hour=18, minute=0)
    page.get_by_label("Title").fill("Listening evening")
    page.get_by_label("Kind of session").select_option("focus_group")
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill(start.strftime("%Y-%m-%dT") + "17:00")
    page.get_by_label("Venue").select_option(label="Al-Noor Centre")
    page.get_by_label("Hosted by").select_option(label="Carers Together")
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_text("The end must be after the start.")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Listening evening")
    assert_accessible(page)
    page.get_by_label("Ends").fill(start.strftime("%Y-%m-%dT") + "20:00")
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_role("heading", name="Listening evening")).to_be_visible()
    press(page, page.get_by_role("button", name="Publish"))
    expect(page.get_by_role("status")).to_contain_text("Published")
    assert_accessible(page)

    session = Session.objects.get(title="Listening evening")
    assert session.host.name == "Carers Together" and session.venue.name == "Al-Noor Centre"
    services.register(session=session, user=member)
    # A week later: the session has happened, and who came can be recorded.
    past = timezone.now() - timedelta(hours=3)
    Session.objects.filter(pk=session.pk).update(starts_at=past, ends_at=past + timedelta(hours=2))
    page.reload()
    tick(page, page.get_by_label(member.display_name))
    page.get_by_label("How many came without registering?").fill("3")
    tick(page, page.get_by_label("Carer or family member"))
    tick(page, page.get_by_label("Mark the session as completed"))
    press(page, page.get_by_role("button", name="Save attendance"))
    expect(page.get_by_role("status")).to_contain_text("Attendance saved")
    assert_accessible(page)
    session.refresh_from_db()
    assert session.walk_in_count == 3 and session.walk_in_perspectives == ["carer"]
    assert session.status == "completed"
    assert Registration.objects.get(user=member).attended is True


def test_the_poster_is_accessible_and_fits_a_phone(page, live_server, assert_accessible, community):
    start = timezone.now() + timedelta(days=3)
    session = Session.objects.create(
        community=community,
        title="Drop-in at the library",
        kind="drop_in",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status="published",
        registration_required=False,
    )
    page.goto(live_server.url + f"/c/{community.slug}/sessions/{session.pk}/poster/")
    expect(page.get_by_role("heading", name="Drop-in at the library")).to_be_visible()
    expect(page.get_by_role("img", name="A QR code")).to_be_visible()
    assert_accessible(page)


def test_a_visitor_answers_a_public_survey_on_a_small_phone(
    browser, live_server, assert_accessible, community
):
    from engagement.models import Response, Survey
    from tests.engagement.test_surveys import make_survey

    survey, clear, topics, rating, words = make_survey(community, audience=Survey.Audience.ANYONE)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(live_server.url + survey.get_absolute_url())
    expect(page.get_by_role("heading", name=survey.title)).to_be_visible()
    assert_accessible(page)
    # The required question is missed first; what was typed stays.
    tick(page, page.get_by_label("Length"))
    page.get_by_label("Anything else?").fill("Please send them sooner.")
    press(page, page.get_by_role("button", name="Send my answers"))
    expect(page.get_by_text("Please answer this question.")).to_be_visible()
    expect(page.get_by_label("Anything else?")).to_have_value("Please send them sooner.")
    expect(page.get_by_label("Length")).to_be_checked()
    assert_accessible(page)
    # A radio group takes one Tab; the arrow keys choose within it.
    tab_to(page, page.get_by_role("radio", name="Yes", exact=True))
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="No", exact=True)).to_be_checked()
    tab_to(page, page.get_by_role("radio", name="1", exact=True))
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="4", exact=True)).to_be_checked()
    press(page, page.get_by_role("button", name="Send my answers"))
    expect(page.get_by_role("status")).to_contain_text("Your answers are saved")
    assert_accessible(page)
    context.close()
    assert Response.objects.get().answers.count() == 4


def test_a_coordinator_reads_a_surveys_results(
    page, live_server, assert_accessible, log_in, community, coordinator
):
    from tests.engagement.test_surveys import answer, make_survey

    survey, clear, topics, rating, words = make_survey(community, audience="anyone")
    answer(
        survey, [clear, topics, rating, words], data=["no", None, "2", "Shorter letters, please"]
    )
    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/")
    press(page, page.get_by_role("link", name=f"results {survey.title}"))
    expect(page.get_by_role("heading", name=f"Results: {survey.title}")).to_be_visible()
    expect(
        page.get_by_role("img", name="Bar chart of the answers to “Were they clear?”")
    ).to_be_visible()
    expect(page.get_by_text("Shorter letters, please")).to_be_visible()
    assert_accessible(page)


def test_a_coordinator_builds_a_survey_and_previews_it(
    page, live_server, assert_accessible, log_in, community, coordinator
):
    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/")
    press(page, page.get_by_role("link", name="Build and change surveys"))
    expect(page.get_by_role("heading", name="Surveys", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Title").fill("Feedback on the drop-in")
    page.get_by_label("Who can answer").select_option("anyone")
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_role("heading", name="Feedback on the drop-in")).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Add a question"))
    expect(page.get_by_role("heading", name="Add a question")).to_be_visible()
    page.get_by_label("Question").fill("Was the venue easy to get to?")
    page.get_by_label("Kind of answer").select_option("single")
    press(page, page.get_by_role("button", name="Save the question"))
    expect(page.get_by_text("Give at least two choices")).to_be_visible()
    expect(page.get_by_label("Question")).to_have_value("Was the venue easy to get to?")
    assert_accessible(page)
    page.get_by_label("Choices, one on each line").fill("Yes, easy\nQuite hard\nVery hard")
    press(page, page.get_by_role("button", name="Save the question"))
    expect(page.get_by_role("link", name="Was the venue easy to get to?")).to_be_visible()
    press(page, page.get_by_role("link", name="Preview or answer"))
    expect(page.get_by_role("radio", name="Quite hard")).to_be_visible()
    assert_accessible(page)
