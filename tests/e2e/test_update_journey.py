"""Closing the loop in the browser: a member adds an idea, a coordinator decides and publishes
an update, the member's email arrives at a real SMTP server, its link opens the update, and
"what happened to my input", the public board and both sets of figures show it.

Delivery is not run by hand: Celery runs eagerly in tests, so the live server's commit of the
publish request hands the new notification to `deliver` in that same request, which sends it
over SMTP to the `sink` before the page answers."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from improvement.models import Decision, Idea, Theme, Update
from members.models import Notification
from tests.e2e.keyboard import press, tab_to, tick, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = "Clinic letters will come a week sooner"
WHAT_WE_DID = "From June the clinic posts letters three weeks before, not two."
REASON = "Letters that arrive late mean missed appointments. The clinic agreed to post sooner."


def plain_text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("The email has no plain-text part")


def test_a_member_hears_what_was_done_with_their_idea(
    page,
    browser,
    browser_context_args,
    live_server,
    sink,
    assert_accessible,
    log_in,
    community,
    coordinator,
    member,
):
    Theme.objects.create(community=community, name="Access")
    Theme.objects.create(community=community, name="Communication")
    # A member adds an idea from the ideas list.
    log_in(page, member)
    page.goto(live_server.url + f"/c/{community.slug}/ideas/")
    expect(page.get_by_role("heading", name="Ideas", exact=True)).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Add an idea", exact=True))
    expect(page.get_by_role("heading", name="Add an idea")).to_be_visible()
    type_into(page, page.get_by_label("Your idea in a few words"), "Send clinic letters sooner")
    type_into(page, page.get_by_label("Tell us more"), "My letter came after my appointment.")
    tick(page, page.get_by_label("Communication"))
    press(page, page.get_by_role("button", name="Add the idea"))
    expect(page.get_by_role("heading", name="Send clinic letters sooner")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your idea is added.")
    assert_accessible(page)
    idea = Idea.objects.get()
    assert idea.author == member

    # A coordinator, on their own phone, records a decision and is taken to a prefilled
    # update.
    context = browser.new_context(**browser_context_args)
    theirs = context.new_page()
    log_in(theirs, coordinator)
    theirs.goto(live_server.url + idea.get_absolute_url())
    press(theirs, theirs.get_by_role("link", name="Decide, change status or merge"))
    expect(theirs).to_have_url(
        re.compile(re.escape(f"/c/{community.slug}/manage/ideas/{idea.pk}/") + "$")
    )
    expect(
        theirs.get_by_role("heading", name="Send clinic letters sooner", level=1)
    ).to_be_visible()
    assert_accessible(theirs)
    decide = theirs.get_by_role("region", name="Record a decision")
    adopt = decide.get_by_role("radio", name="Adopt", exact=True)
    tab_to(theirs, decide.get_by_role("radio").first)
    theirs.keyboard.press("Space")
    expect(adopt).to_be_checked()
    type_into(theirs, decide.get_by_label("Why, in plain language"), REASON)
    press(theirs, decide.get_by_role("button", name="Record the decision"))

    expect(theirs).to_have_url(
        re.compile(re.escape(f"/c/{community.slug}/manage/updates/new/?idea={idea.pk}") + "$")
    )
    expect(theirs.get_by_role("heading", name="Write an update", level=1)).to_be_visible()
    expect(theirs.get_by_role("status")).to_contain_text("Decision recorded")
    expect(theirs.get_by_label("Headline")).to_have_value("Send clinic letters sooner")
    expect(theirs.get_by_label("What we heard")).to_have_value(
        "My letter came after my appointment."
    )
    expect(theirs.get_by_label("What we did, are doing, or could not do, and why")).to_have_value(
        f"Adopt. {REASON}"
    )
    expect(theirs.get_by_role("checkbox", name="Send clinic letters sooner")).to_be_checked()
    assert_accessible(theirs)
    type_into(theirs, theirs.get_by_label("Headline"), HEADLINE)
    type_into(
        theirs, theirs.get_by_label("What we did, are doing, or could not do, and why"), WHAT_WE_DID
    )
    press(theirs, theirs.get_by_role("button", name="Save the draft"))
    expect(theirs.get_by_role("heading", name="Change the update", level=1)).to_be_visible()
    expect(theirs.get_by_role("status")).to_contain_text("Draft saved.")

    # Before publishing, the coordinator sees who will be told: the one member.
    publish = theirs.get_by_role("region", name="Publish")
    expect(publish).to_contain_text(
        "Publishing puts this on the board and tells 1 person whose input it answers:"
    )
    expect(publish.get_by_role("listitem")).to_have_text(
        ["1 member, the way they chose (email now, a digest, or a letter or call)"]
    )
    assert_accessible(theirs)
    assert sink.received == []
    press(theirs, publish.get_by_role("button", name="Publish and tell them"))
    expect(theirs.get_by_role("heading", name=HEADLINE, level=1)).to_be_visible()
    expect(theirs.get_by_role("status").first).to_contain_text(
        "Published. Everyone whose input it answers is being told, each once"
    )
    # Celery runs eagerly here, so the worker's part is done before the page answers.
    telling = theirs.get_by_role("region", name="Telling everyone whose input it answers")
    expect(telling.get_by_role("status")).to_contain_text(
        "Everyone is written to: 1 person will hear, the way they chose."
    )
    expect(telling).to_contain_text("Emails sent: 1")
    assert_accessible(theirs)
    # The coordinator's list of updates shows it published, and how many were told.
    theirs.goto(live_server.url + f"/c/{community.slug}/manage/updates/")
    expect(theirs.get_by_role("heading", name="Updates", level=1)).to_be_visible()
    row = theirs.get_by_role("row", name=HEADLINE)
    expect(row.get_by_role("cell")).to_have_text(
        [
            HEADLINE,
            re.compile(r"^Published \(\d+ \w+ \d{4}\)$"),
            "1 idea",
            "1",
        ]
    )
    assert_accessible(theirs)
    context.close()

    update = Update.objects.get()
    assert update.is_published and update.told_count == 1
    assert list(update.ideas.all()) == [idea]

    # The member's email has arrived at the SMTP server (sent when the publish committed).
    [email] = sink.received
    assert email.to == member.email
    assert email.subject == f"What we did with your input: {HEADLINE}"
    body = plain_text(email.message)
    assert WHAT_WE_DID in body
    assert Notification.objects.get(kind="update_published").state == "sent"
    link = re.search(r"https?://\S+/c/\S+/updates/\d+/", body).group(0)

    # Its link opens the update.
    page.goto(live_server.url + urlsplit(link).path)
    expect(page.get_by_role("heading", name=HEADLINE, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="What we did")).to_be_visible()
    expect(page.get_by_text(WHAT_WE_DID)).to_be_visible()
    expect(
        page.get_by_role("listitem").filter(has_text="Idea: Send clinic letters sooner")
    ).to_be_visible()
    assert_accessible(page)

    # What happened to my input: the idea, with the update under it.
    press(page, page.get_by_role("link", name="See what happened to all your input"))
    expect(page).to_have_url(re.compile(r"/me/input/$"))
    expect(page.get_by_role("heading", name="What happened to my input")).to_be_visible()
    card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Your idea: Send clinic letters sooner")
    )
    expect(card).to_contain_text("Now: Prioritised")
    expect(card.get_by_role("heading", name="Updates")).to_be_visible()
    expect(card.get_by_role("link", name=HEADLINE)).to_be_visible()
    assert_accessible(page)

    # The public board lists it.
    page.goto(live_server.url + f"/c/{community.slug}/updates/")
    expect(page.get_by_role("heading", name="You said, we did", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 update")
    expect(page.get_by_role("link", name=HEADLINE)).to_be_visible()
    expect(page.get_by_role("link", name="Send clinic letters sooner")).to_be_visible()
    assert_accessible(page)
    # Filtered by theme: the update is about an idea on communication, not on access.
    for theme, count in (("Access", "0 updates"), ("Communication", "1 update")):
        tab_to(page, page.get_by_role("combobox", name="Theme"))
        page.get_by_role("combobox", name="Theme").select_option(label=theme)
        press(page, page.get_by_role("button", name="Show updates"))
        expect(page.get_by_role("status")).to_have_text(count)
        expect(page.get_by_role("combobox", name="Theme")).to_have_value(
            str(Theme.objects.get(name=theme).pk)
        )
    expect(page.get_by_role("link", name=HEADLINE)).to_be_visible()
    assert_accessible(page)

    # The community page gives the public figure.
    page.goto(live_server.url + community.get_absolute_url())
    figure = page.locator(".loop-figure")
    expect(figure).to_have_text("We have answered 100% of ideas, usually within a day.")
    expect(
        page.get_by_role("region", name="You said, we did").get_by_role("link", name=HEADLINE)
    ).to_be_visible()
    assert_accessible(page)

    # The coordinator's dashboard shows the loop figures.
    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/")
    loop = page.get_by_role("region", name="Closing the loop")
    expect(loop.get_by_role("listitem").first).to_have_text(
        "100% of 1 input answered with an update (1)"
    )
    expect(loop).to_contain_text("0 waiting longer than our promise of 30 days")
    expect(loop).to_contain_text("0 ideas decided but not yet told to the people who gave them")
    assert_accessible(page)

    idea.refresh_from_db()
    assert idea.status == "prioritised"
    assert Decision.objects.get().outcome == "adopt"
    assert len(sink.received) == 1  # nothing was sent twice along the way
