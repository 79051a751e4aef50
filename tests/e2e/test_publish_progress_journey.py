"""A coordinator publishes an update to many people and watches, on the update's page, the
worker tell them: the page answers at once, says it is getting ready, and then (htmx asking
every two seconds, without reloading the page) that everyone is written to. Each supporter
gets one email. Real broker, a real Celery worker and a real SMTP server."""

from collections import Counter

import pytest
from playwright.sync_api import expect

from improvement.models import Support, Update
from members.models import User
from tests.e2e.keyboard import press
from tests.improvement.factories import make_idea
from tests.subprocesses import child_env
from tests.workers import processes, wait_until, worker_command

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

SUPPORTERS = 150
HEADLINE = "Saturday clinics start in May"


def test_a_coordinator_watches_everyone_being_told(
    page,
    live_server,
    broker_env,
    sink,
    assert_accessible,
    log_in,
    community,
    coordinator,
    tmp_path,
):
    idea = make_idea(community, title="Open the clinic on Saturdays")
    User.objects.bulk_create(
        User(email=f"supporter{i}@example.org", name=f"Supporter {i}") for i in range(SUPPORTERS)
    )
    people = list(User.objects.filter(email__startswith="supporter"))
    Support.objects.bulk_create(Support(idea=idea, user=person) for person in people)
    update = Update.objects.create(
        community=community,
        created_by=coordinator,
        title=HEADLINE,
        what_we_heard="Weekday clinics are hard to reach for people at work.",
        what_we_did="The clinic opens on Saturday mornings from May.",
    )
    update.ideas.set([idea])

    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/updates/{update.pk}/")
    publish = page.get_by_role("region", name="Publish")
    expect(publish).to_contain_text(f"tells {SUPPORTERS} people whose input it answers")
    with processes(tmp_path) as group:
        # No worker is running yet: the page answers at once, and says it is getting ready.
        press(page, publish.get_by_role("button", name="Publish and tell them"))
        expect(page.get_by_role("heading", name=HEADLINE, level=1)).to_be_visible()
        expect(page.get_by_role("status").first).to_contain_text(
            "Published. Everyone whose input it answers is being told"
        )
        telling = page.get_by_role("region", name="Telling everyone whose input it answers")
        expect(telling.get_by_role("status")).to_have_text(
            "Telling everyone whose input this answers…"
        )
        expect(telling).to_contain_text("Getting ready to tell everyone whose input this answers")
        # Without JavaScript, a link reloads the page to see how far it has got.
        expect(
            telling.get_by_role("link", name="Refresh to see how far it has got")
        ).to_be_visible()
        assert_accessible(page)
        page.evaluate("window.stillThePage = true")

        # The worker starts, in small batches; the page follows it without being reloaded.
        env = child_env(**broker_env, **sink.env(), FANOUT_BATCH_SIZE="5")
        group.start(worker_command("--concurrency=2"), env=env)
        expect(telling.get_by_role("status")).to_contain_text(
            f"Everyone is written to: {SUPPORTERS} people will hear, each once",
            timeout=120_000,
        )
        assert page.evaluate("window.stillThePage === true"), "the page was reloaded"
        expect(telling.get_by_role("link", name="Refresh to see how far it has got")).to_have_count(
            0
        )
        assert_accessible(page)
        wait_until(
            lambda: len(sink.received) >= SUPPORTERS,
            seconds=120,
            logs=group.logs,
            what=f"{SUPPORTERS} emails received",
        )

    assert sink.counts() == Counter({person.email: 1 for person in people})
    # Reloaded now, the page counts the emails sent.
    page.reload()
    expect(telling).to_contain_text(f"Emails sent: {SUPPORTERS}")
    assert_accessible(page)
