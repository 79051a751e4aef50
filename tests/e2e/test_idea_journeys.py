"""Ideas in the browser: adding, supporting and discussing on a phone; making an idea from a
session; a prioritisation round with both views; merging; and a decision with its reason."""

import re

import pytest
from playwright.sync_api import expect

from communities.models import Membership, MembershipPerspective
from improvement import services
from improvement.models import Comment, Decision, Idea, Score, Support, Theme
from tests.e2e.keyboard import press, tab_to, tick, type_into
from tests.improvement.factories import came, key_point, new_member, past_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def expect_error_beside(field, message) -> None:
    """The field is marked invalid, the message is shown just after it, and a screen reader
    hears the message with the field."""
    if isinstance(message, str):
        message = re.compile(re.escape(message))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field.locator("xpath=following-sibling::*[1]")).to_have_text(message)
    expect(field).to_have_accessible_description(message)


def choose(page, radio, *, limit: int = 10) -> None:
    """Tab into the radio group, then move along it with the arrow keys until `radio` is
    chosen."""
    tab_to(page, page.locator(f"input[type=radio][name='{radio.get_attribute('name')}']").first)
    for _ in range(limit):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{radio} cannot be chosen with the arrow keys on {page.url}")


def _with_perspective(community, email, name, perspective):
    person = new_member(community, email, name=name)
    MembershipPerspective.objects.create(
        membership=Membership.objects.get(community=community, user=person),
        perspective=perspective,
    )
    return person


def _score(page, idea_title, criterion, value):
    """Choose a score with the keyboard: Tab into the criterion's radio group (it starts at
    "Not scored"), then the arrow keys move along 1 to 5."""
    group = page.get_by_role("region", name=idea_title).get_by_role("group", name=criterion)
    tab_to(page, group.get_by_role("radio", name="Not scored"))
    for _ in range(value):
        page.keyboard.press("ArrowRight")
    expect(group.get_by_role("radio", name=str(value), exact=True)).to_be_checked()


CRITERIA = ["Impact", "Reach and fairness", "Feasibility with the resources we have"]


def test_a_member_adds_an_idea_and_another_supports_and_discusses_it(
    page, browser, browser_context_args, live_server, assert_accessible, log_in, community, member
):
    Theme.objects.create(community=community, name="Access")
    Theme.objects.create(community=community, name="Communication")
    log_in(page, member)
    page.goto(live_server.url + community.get_absolute_url())
    press(page, page.get_by_role("link", name="Ideas: add yours, support and discuss"))
    expect(page.get_by_role("heading", name="Ideas", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("0 ideas")
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Add an idea", exact=True))
    expect(page.get_by_role("heading", name="Add an idea")).to_be_visible()
    assert_accessible(page)

    # The title is missed first: the message is beside it, and what was typed stays.
    type_into(page, page.get_by_label("Tell us more"), "Letters with the date large at the top.")
    tick(page, page.get_by_label("Communication"))
    press(page, page.get_by_role("button", name="Add the idea"))
    expect_error_beside(
        page.get_by_label("Your idea in a few words"), "Give the idea a short title."
    )
    expect(page.get_by_label("Tell us more")).to_have_value(
        "Letters with the date large at the top."
    )
    expect(page.get_by_label("Communication")).to_be_checked()
    assert_accessible(page)
    type_into(page, page.get_by_label("Your idea in a few words"), "Clearer clinic letters")
    press(page, page.get_by_role("button", name="Add the idea"))
    expect(page.get_by_role("heading", name="Clearer clinic letters")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Thank you. Your idea is added.")
    expect(page.get_by_text("Added online by Michael")).to_be_visible()
    expect(page.get_by_text("Letters with the date large at the top.")).to_be_visible()
    expect(page.locator("dd", has_text="Communication")).to_be_visible()
    expect(page.get_by_text("0 people support this")).to_be_visible()
    assert_accessible(page)
    idea = Idea.objects.get()

    # Someone else, on their own phone, supports it and joins the discussion.
    supporter = new_member(community, "sadia@example.org", name="Sadia")
    context = browser.new_context(**browser_context_args)
    theirs = context.new_page()
    log_in(theirs, supporter)
    services.add_idea(
        community=community, by=supporter, title="Evening clinics", description="After work."
    )
    theirs.goto(live_server.url + f"/c/{community.slug}/ideas/")
    expect(theirs.get_by_role("status")).to_contain_text("2 ideas")
    # The filters are folded away on a phone, so the ideas come first; Enter opens them.
    expect(theirs.get_by_label("Search")).to_be_hidden()
    press(theirs, theirs.get_by_text("Search, filter and order the ideas"))
    type_into(theirs, theirs.get_by_label("Search"), "letters")
    press(theirs, theirs.get_by_role("button", name="Show ideas"))
    expect(theirs.get_by_role("status")).to_contain_text("1 idea")
    expect(theirs.get_by_label("Search")).to_have_value("letters")
    assert_accessible(theirs)
    press(theirs, theirs.get_by_role("link", name="Clearer clinic letters"))
    expect(theirs.get_by_role("heading", name="Clearer clinic letters")).to_be_visible()
    assert_accessible(theirs)
    press(theirs, theirs.get_by_role("button", name="Support this idea"))
    expect(theirs.get_by_role("status")).to_contain_text("You support this idea.")
    expect(theirs.get_by_text("1 person supports this")).to_be_visible()
    expect(theirs.get_by_role("button", name="Withdraw my support")).to_be_visible()
    assert_accessible(theirs)
    type_into(theirs, theirs.get_by_label("Your comment"), "Yes, and bigger print please.")
    press(theirs, theirs.get_by_role("button", name="Post the comment"))
    expect(theirs.get_by_role("status")).to_contain_text("Your comment is posted.")
    discussion = theirs.get_by_role("region", name="Discussion")
    expect(discussion.get_by_role("listitem")).to_have_count(1)
    expect(discussion.get_by_role("listitem")).to_contain_text("Sadia")
    expect(discussion.get_by_role("listitem")).to_contain_text("Yes, and bigger print please.")
    assert_accessible(theirs)
    context.close()

    assert idea.title == "Clearer clinic letters" and idea.author == member
    assert [t.name for t in idea.themes.all()] == ["Communication"]
    assert list(Support.objects.values_list("idea", "user")) == [(idea.pk, supporter.pk)]
    comment = Comment.objects.get()
    assert (comment.idea, comment.author) == (idea, supporter)
    assert comment.text == "Yes, and bigger print please."


def test_a_coordinator_makes_an_idea_from_what_was_heard_at_a_session(
    page, live_server, assert_accessible, log_in, community, coordinator, member
):
    session = past_session(community, title="Drop-in at the library")
    point = key_point(session, "Letters arrive after the appointment.\nSometimes a week late.")
    came(session, member)
    absent = new_member(community, "absent@example.org", name="Abe")
    came(session, absent, attended=False)

    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/sessions/{session.pk}/")
    expect(page.get_by_role("heading", name="Drop-in at the library")).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Make an idea from Letters arrive"))
    expect(page.get_by_role("heading", name="Make an idea from a key point")).to_be_visible()
    expect(page.get_by_text("Heard at “Drop-in at the library”.")).to_be_visible()
    expect(page.get_by_label("The idea in a few words")).to_have_value(
        "Letters arrive after the appointment."
    )
    expect(page.get_by_label("The idea as they put it")).to_have_value(point.text)
    expect(page.get_by_role("link", name="Back to the session")).to_be_visible()
    assert_accessible(page)
    type_into(page, page.get_by_label("The idea in a few words"), "Send letters earlier")
    press(page, page.get_by_role("button", name="Add the idea"))
    expect(page.get_by_role("heading", name="Send letters earlier")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The idea is added")
    expect(page.get_by_text("Heard at the session “Drop-in at the library”")).to_be_visible()
    assert_accessible(page)

    idea = Idea.objects.get()
    assert (idea.source, idea.session, idea.key_point) == ("session", session, point)
    assert idea.entered_by == coordinator and idea.author is None
    contributors = Idea.objects.filter(pk=idea.pk).contributors()
    assert member in contributors.members
    assert absent not in contributors.members


def test_a_prioritisation_round_shows_the_community_and_professionals_side_by_side(
    page,
    browser,
    browser_context_args,
    live_server,
    assert_accessible,
    log_in,
    community,
    coordinator,
    member,
):
    services.add_idea(
        community=community, by=member, title="Evening clinics", description="After work."
    )
    services.add_idea(
        community=community, by=member, title="Text reminders", description="A day before."
    )
    services.add_idea(
        community=community, by=member, title="Free parking", description="For carers."
    )
    patient = _with_perspective(community, "pat@example.org", "Pat", "patient")
    clinician = _with_perspective(community, "dr.kim@example.org", "Dr Kim", "clinician")

    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/")
    press(page, page.get_by_role("link", name="Prioritisation", exact=True))
    expect(page.get_by_role("heading", name="Prioritisation", level=1)).to_be_visible()
    assert_accessible(page)
    type_into(page, page.get_by_label("Title"), "Spring priorities")
    tick(page, page.get_by_label("Evening clinics"))
    tick(page, page.get_by_label("Text reminders"))
    press(page, page.get_by_role("button", name="Create the round"))
    expect(page.get_by_role("heading", name="Spring priorities", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Round created.")
    ideas_in_round = page.get_by_role("region", name="Ideas in this round")
    expect(ideas_in_round.get_by_role("link")).to_have_text(["Evening clinics", "Text reminders"])
    assert_accessible(page)

    who_scores = page.get_by_role("region", name="Who scores")
    for person in (patient, clinician):
        tab_to(page, who_scores.get_by_label("Person"))
        page.keyboard.type(person.email)
        press(page, who_scores.get_by_role("button", name="Invite to score"))
        expect(page.get_by_role("status")).to_contain_text("Scorer added.")
        expect(who_scores.get_by_role("list")).to_contain_text(f"{person.display_name}:")
    expect(who_scores.get_by_role("listitem")).to_have_text(
        [
            "Pat: Community members (0 scores) Remove Pat",
            "Dr Kim: Professionals (0 scores) Remove Dr Kim",
        ]
    )
    assert_accessible(page)
    press(page, page.get_by_role("button", name="Open the round and tell the scorers"))
    expect(page.get_by_role("status")).to_contain_text("The round is open.")
    assert_accessible(page)
    round_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # The patient rates evening clinics highly; the clinician thinks reminders matter more.
    for person, scores in [
        (patient, {"Evening clinics": 5, "Text reminders": 2}),
        (clinician, {"Evening clinics": 2, "Text reminders": 4}),
    ]:
        context = browser.new_context(**browser_context_args)
        theirs = context.new_page()
        log_in(theirs, person)
        theirs.goto(live_server.url + f"/c/{community.slug}/ideas/rounds/{round_pk}/")
        expect(theirs.get_by_role("heading", name="Spring priorities")).to_be_visible()
        assert_accessible(theirs)
        for title, value in scores.items():
            for criterion in CRITERIA:
                _score(theirs, title, criterion, value)
        press(theirs, theirs.get_by_role("button", name="Save my scores"))
        expect(theirs.get_by_role("status")).to_contain_text("Your scores are saved.")
        expect(
            theirs.get_by_role("region", name="Text reminders")
            .get_by_role("group", name="Impact")
            .get_by_role("radio", name=str(scores["Text reminders"]), exact=True)
        ).to_be_checked()
        assert_accessible(theirs)
        context.close()

    page.reload()
    expect(page.get_by_role("region", name="Who scores")).to_contain_text(
        "Pat: Community members (6 scores)"
    )
    press(page, page.get_by_role("button", name="Close the round"))
    expect(page.get_by_role("heading", name="Results: Spring priorities")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The round is closed.")
    table = page.get_by_role("table", name="Ideas ranked, with both views side by side")
    expect(table.get_by_role("columnheader", name="Community members")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Professionals", exact=True)).to_be_visible()
    differ = page.get_by_role("region", name="Where the two views differ most")
    expect(differ).to_contain_text(
        "“Evening clinics”: community members scored it higher (5.0) than professionals (2.0)."
    )
    expect(differ).to_contain_text(
        "“Text reminders”: professionals scored it higher (4.0) than community members (2.0)."
    )
    assert_accessible(page)
    tick(page, page.get_by_label("Evening clinics"))
    press(page, page.get_by_role("button", name="Mark as prioritised"))
    expect(page.get_by_role("status")).to_contain_text("marked as prioritised")
    expect(
        table.get_by_role("row", name="Evening clinics").get_by_text("Prioritised")
    ).to_be_visible()
    assert_accessible(page)

    assert Idea.objects.get(title="Evening clinics").status == "prioritised"
    assert Idea.objects.get(title="Text reminders").status == "new"
    assert Idea.objects.get(title="Free parking").status == "new"
    assert Score.objects.filter(scorer__user=patient).count() == 6
    assert Score.objects.filter(scorer__user=clinician).count() == 6


def test_a_coordinator_merges_two_ideas_that_say_the_same(
    page, live_server, assert_accessible, log_in, community, coordinator, member
):
    keep = services.add_idea(
        community=community, by=member, title="Evening clinics", description="After work."
    )
    other = new_member(community, "olwen@example.org", name="Olwen")
    same = services.add_idea(
        community=community, by=other, title="Clinics after six", description="I work days."
    )
    supporter = new_member(community, "sam@example.org", name="Sam")
    services.support_idea(idea=same, user=supporter)

    log_in(page, coordinator)
    page.goto(live_server.url + same.get_absolute_url())
    press(page, page.get_by_role("link", name="Decide, change status or merge"))
    expect(page.get_by_role("heading", name="Clinics after six", level=1)).to_be_visible()
    assert_accessible(page)
    merge = page.get_by_role("region", name="Merge into another idea")
    tab_to(page, merge.get_by_label("Merge this idea into"))
    merge.get_by_label("Merge this idea into").select_option(label="Evening clinics")
    type_into(page, merge.get_by_label("Why they are the same"), "Both ask for clinics after work.")
    press(page, merge.get_by_role("button", name="Merge"))
    expect(page.get_by_role("heading", name="Evening clinics", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Merged. Everyone who supported or commented on “Clinics after six” is now part of "
        "this idea."
    )
    expect(page.get_by_text("1 person supports this")).to_be_visible()
    expect(page.get_by_role("region", name="Ideas merged into this one")).to_contain_text(
        "Clinics after six"
    )
    expect(page.get_by_role("region", name="History")).to_contain_text(
        "“Clinics after six” was merged into this idea. Both ask for clinics after work."
    )
    assert_accessible(page)

    # An old link to the merged idea leads here, and says why.
    page.goto(live_server.url + f"/c/{community.slug}/ideas/{same.pk}/")
    expect(page.get_by_role("heading", name="Evening clinics", level=1)).to_be_visible()
    expect(page.get_by_text("You followed a link to “Clinics after six”.")).to_be_visible()
    assert_accessible(page)

    same.refresh_from_db()
    assert same.status == "merged" and same.merged_into == keep
    assert list(Support.objects.values_list("idea", "user")) == [(keep.pk, supporter.pk)]
    contributors = Idea.objects.filter(pk=keep.pk).contributors().members
    assert {member, other, supporter} <= set(contributors)


def test_a_coordinator_records_why_an_idea_is_not_taken_forward(
    page, live_server, assert_accessible, log_in, community, coordinator, member
):
    idea = services.add_idea(
        community=community, by=member, title="Free parking", description="For carers."
    )
    log_in(page, coordinator)
    page.goto(live_server.url + idea.get_absolute_url())
    press(page, page.get_by_role("link", name="Decide, change status or merge"))
    expect(page.get_by_role("heading", name="Free parking", level=1)).to_be_visible()
    assert_accessible(page)
    decide = page.get_by_role("region", name="Record a decision")
    choose(page, decide.get_by_role("radio", name="Not taken forward"))
    press(page, decide.get_by_role("button", name="Record the decision"))
    expect(page.get_by_text("Status now: New.")).to_be_visible()
    # The form's own plain-language message, or Django's generic one until the form has it.
    expect_error_beside(
        decide.get_by_label("Why, in plain language"),
        re.compile("Give the reason for the decision, in plain language."),
    )
    expect(decide.get_by_role("radio", name="Not taken forward")).to_be_checked()
    assert_accessible(page)
    reason = "The car park belongs to the council, and they have said no. We will ask again."
    type_into(page, decide.get_by_label("Why, in plain language"), reason)
    press(page, decide.get_by_role("button", name="Record the decision"))
    # The decision leads straight to telling the people who gave the idea.
    expect(page.get_by_role("heading", name="Write an update", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Decision recorded")
    assert_accessible(page)
    page.goto(live_server.url + idea.get_absolute_url())
    decision = page.get_by_role("region", name="Decision", exact=True)
    expect(decision).to_contain_text("Not taken forward")
    expect(decision).to_contain_text(reason)
    expect(decision).to_contain_text("Decided by Cora on")
    expect(page.locator(".idea-status")).to_have_text("Not taken forward")
    assert_accessible(page)

    idea.refresh_from_db()
    assert idea.status == "not_taken_forward"
    decision = Decision.objects.get()
    assert (decision.outcome, decision.reason, decision.decided_by) == (
        "not_taken_forward",
        reason,
        coordinator,
    )
