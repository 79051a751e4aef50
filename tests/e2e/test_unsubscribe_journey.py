import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from communities import services
from communities.models import Community
from tests.e2e.keyboard import press

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_unsubscribe_link_in_an_email_works_without_signing_in(
    page, live_server, mailoutbox, assert_accessible, log_in, community, coordinator, outsider
):
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    services.join_community(
        community=community, user=outsider, perspectives=["carer"], involvement=[]
    )
    [email] = [m for m in mailoutbox if m.to == [coordinator.email]]
    header = email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/one-click/" in header
    visible = re.search(r"https?://\S+/me/unsubscribe/\S+/", email.body).group(0)

    page.goto(live_server.url + urlsplit(visible).path)
    expect(page.get_by_role("heading", name="Stop “Coordinator alerts” emails?")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # not signed in
    assert_accessible(page)
    press(page, page.get_by_role("button", name="Stop these emails"))
    expect(
        page.get_by_role("heading", name="“Coordinator alerts” emails are turned off")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Turn them on again")).to_be_visible()
    assert_accessible(page)

    log_in(page, coordinator)
    page.goto(live_server.url + "/me/")
    expect(page.get_by_label("Alerts for coordinators")).to_have_value("never")
    expect(page.get_by_label("Reminders about sessions I have registered for")).to_have_value(
        "immediately"
    )
    assert_accessible(page)
