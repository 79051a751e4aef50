"""Choosing among thousands of ideas in the browser: a coordinator writing an update types
its words, finds an idea that is not listed by searching inside the form, ticks it and
saves; nothing typed before the search is lost, all by keyboard."""

import pytest
from playwright.sync_api import expect

from improvement.models import Update
from members.choosing import OFFERED
from tests.e2e.keyboard import press, tab_to, tick, type_into
from tests.improvement.factories import make_idea

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_finds_an_unlisted_idea_without_losing_what_they_typed(
    page, live_server, assert_accessible, log_in, community, coordinator
):
    # The oldest idea, behind more newer ones than the form lists (it lists the newest).
    wanted = make_idea(community, title="Parking at the health centre")
    for i in range(OFFERED + 5):
        make_idea(community, title=f"Longer opening hours {i}")
    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/updates/new/")
    expect(page.get_by_role("heading", name="Write an update")).to_be_visible()
    form = page.locator("form.form-narrow")
    expect(form.get_by_label("Parking at the health centre")).to_have_count(0)
    type_into(page, page.locator("#id_title"), "Parking is changing")
    type_into(page, page.locator("#id_what_we_heard"), "Finding a space takes too long.")
    type_into(page, page.locator("#id_what_we_did"), "Ten more spaces from March.")
    # Back up to the search box above the fields: Enter there lists the ideas with its words.
    tab_to(page, page.get_by_label("Any of their words"), back=True)
    page.keyboard.type("parking")
    page.keyboard.press("Enter")
    expect(page.get_by_text("and 1 idea with those words")).to_be_visible()
    expect(page.locator("#id_title")).to_have_value("Parking is changing")
    expect(page.locator("#id_what_we_heard")).to_have_value("Finding a space takes too long.")
    expect(page.locator("#id_what_we_did")).to_have_value("Ten more spaces from March.")
    assert not Update.objects.exists()
    assert_accessible(page)
    tick(page, form.get_by_label("Parking at the health centre"))
    press(page, page.get_by_role("button", name="Save the draft"))
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
    update = Update.objects.get()
    assert (update.title, update.what_we_did) == (
        "Parking is changing",
        "Ten more spaces from March.",
    )
    assert list(update.ideas.all()) == [wanted]
