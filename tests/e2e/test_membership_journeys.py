"""Joining a community, three ways: openly, by invitation, and by request and approval."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from communities.models import Community, Membership
from members.models import User
from tests.e2e.keyboard import press, tick, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "kettle-and-crumpets-2026"


@pytest.fixture
def rules_community(community):
    community.ground_rules = "Listen to each other.\nWhat is shared here stays here."
    community.serves = "People with bowel disease in Sheffield."
    community.save()
    community.ensure_default_involvement_options()
    return community


def link_in(email, live_server) -> str:
    """The email's link, on the test server: emails address the site by SITE_URL."""
    link = re.search(r"https?://\S+", email.body.split("\n\n", 1)[-1]).group(0)
    return live_server.url + urlsplit(link).path


def test_a_visitor_finds_a_community_signs_up_and_joins(
    page, live_server, mailoutbox, assert_accessible, rules_community
):
    page.goto(live_server.url)
    press(page, page.get_by_role("link", name=rules_community.name))
    expect(page.get_by_role("heading", name=rules_community.name, level=1)).to_be_visible()
    expect(page.get_by_text("What is shared here stays here.")).to_be_visible()
    assert_accessible(page)

    press(page, page.get_by_role("link", name="Join this community"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    press(page, page.locator("main").get_by_role("link", name="Create an account"))
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    type_into(page, "#id_email", "amara@example.org")
    type_into(page, "#id_password1", PASSWORD)
    type_into(page, "#id_password2", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(link_in(mailoutbox[-1], live_server))
    press(page, "form.account-form button[type=submit]")
    # Confirming signs the person in and brings them back to the join form.
    expect(page.get_by_role("heading", name=f"Join {rules_community.name}")).to_be_visible()
    assert_accessible(page)

    # Submitting without agreeing to the ground rules keeps the ticks and says why.
    tick(page, page.get_by_label("Patient or service user"))
    tick(page, page.get_by_label("Coming to sessions"))
    press(page, page.get_by_role("button", name="Join"))
    expect(page.get_by_text("Please agree to the ground rules to join.")).to_be_visible()
    expect(page.get_by_label("Patient or service user")).to_be_checked()
    assert_accessible(page)

    tick(page, page.get_by_label("I have read the ground rules and agree to them."))
    press(page, page.get_by_role("button", name="Join"))
    expect(page.get_by_role("status")).to_contain_text("You are now a member")
    expect(page.get_by_text("You are a member of this community (Member).")).to_be_visible()
    expect(page.get_by_role("link", name="Answer the optional questions")).to_be_visible()
    assert_accessible(page)

    membership = Membership.objects.get(user__email="amara@example.org")
    assert membership.perspectives == ["patient"]
    assert [o.name for o in membership.involvement.all()] == ["Coming to sessions"]
    assert membership.rules_version_agreed == rules_community.ground_rules_version


def test_a_coordinator_invites_a_new_person_who_signs_up_from_the_email(
    page, browser, live_server, mailoutbox, assert_accessible, log_in, rules_community, coordinator
):
    log_in(page, coordinator)
    page.goto(live_server.url + rules_community.get_absolute_url())
    press(page, page.get_by_role("link", name="Manage this community"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Invitations", exact=True))
    expect(page.get_by_role("heading", name="Invitations", level=1)).to_be_visible()
    assert_accessible(page)

    type_into(page, "#id_email", "not an address")
    press(page, page.get_by_role("button", name="Send invitation"))
    expect(page.get_by_text("Enter a whole email address")).to_be_visible()
    assert_accessible(page)

    type_into(page, "#id_email", "kofi@example.org")
    page.get_by_label("Role").select_option("partner")
    type_into(page, "#id_message", "We would love you to join us.")
    press(page, page.get_by_role("button", name="Send invitation"))
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to kofi@example.org")
    expect(page.get_by_role("cell", name="kofi@example.org", exact=True)).to_be_visible()
    assert_accessible(page)

    assert mailoutbox[-1].to == ["kofi@example.org"]
    link = link_in(mailoutbox[-1], live_server)
    assert "/invitations/" in link

    # The invited person opens the link in their own browser, with no account.
    context = browser.new_context(viewport={"width": 320, "height": 720})
    invited = context.new_page()
    invited.goto(link)
    expect(
        invited.get_by_role("heading", name=f"You are invited to join {rules_community.name}")
    ).to_be_visible()
    expect(invited.get_by_text("We would love you to join us.")).to_be_visible()
    assert_accessible(invited)
    type_into(invited, "#id_password1", PASSWORD)
    type_into(invited, "#id_password2", PASSWORD)
    tick(invited, invited.get_by_label("Voluntary or community organisation"))
    tick(invited, invited.get_by_label("Giving feedback online"))
    tick(invited, invited.get_by_label("I have read the ground rules and agree to them."))
    press(invited, invited.get_by_role("button", name="Accept and join"))
    expect(invited.get_by_role("status")).to_contain_text("You are now a member")
    expect(invited.get_by_text("You are a member of this community (Partner).")).to_be_visible()
    expect(invited.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(invited)

    # The link works once.
    invited.goto(link)
    expect(invited.get_by_text("already been used")).to_be_visible()
    context.close()
    user = User.objects.get(email="kofi@example.org")
    assert Membership.objects.get(user=user).role == "partner"


def test_a_person_asks_to_join_and_a_coordinator_approves(
    page,
    browser,
    live_server,
    mailoutbox,
    assert_accessible,
    log_in,
    rules_community,
    coordinator,
    outsider,
):
    rules_community.join_policy = Community.JoinPolicy.APPROVAL
    rules_community.save()
    log_in(page, outsider)
    page.goto(live_server.url + rules_community.get_absolute_url())
    press(page, page.get_by_role("link", name="Ask to join"))
    expect(page.get_by_text("A coordinator looks at each request")).to_be_visible()
    tick(page, page.get_by_label("Carer or family member"))
    tick(page, page.get_by_label("One-off surveys"))
    type_into(page, "#id_message", "I look after my dad.")
    tick(page, page.get_by_label("I have read the ground rules and agree to them."))
    press(page, page.get_by_role("button", name="Ask to join"))
    expect(page.get_by_role("status")).to_contain_text("A coordinator will look at your request")
    expect(page.get_by_text("You have asked to join.")).to_be_visible()
    assert_accessible(page)
    assert mailoutbox[-1].to == [coordinator.email]

    context = browser.new_context(viewport={"width": 320, "height": 720})
    coordinating = context.new_page()
    log_in(coordinating, coordinator)
    coordinating.goto(link_in(mailoutbox[-1], live_server))
    expect(coordinating.get_by_role("heading", name="Requests to join")).to_be_visible()
    expect(coordinating.get_by_text("I look after my dad.")).to_be_visible()
    assert_accessible(coordinating)
    type_into(coordinating, "textarea[name=message]", "Welcome, Otto!")
    press(coordinating, coordinating.get_by_role("button", name="Approve Otto"))
    expect(coordinating.get_by_role("status")).to_contain_text("Otto is now a member")
    assert_accessible(coordinating)
    context.close()

    assert mailoutbox[-1].to == [outsider.email]
    assert "Welcome, Otto!" in mailoutbox[-1].body
    page.goto(link_in(mailoutbox[-1], live_server))
    expect(page.get_by_text("You are a member of this community (Member).")).to_be_visible()
    assert_accessible(page)
