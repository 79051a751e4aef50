"""The community page's short lists (the sessions coming up, the surveys open now) are kept
per revision and until the clock moves them: what the page shows is always what the
database says now, whether a row changed or time passed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.engagement.test_sessions import make_session
from tests.engagement.test_surveys import make_survey

pytestmark = pytest.mark.django_db


def shown(client, community) -> str:
    response = client.get(community.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def clock(monkeypatch):
    """Moves "now" for the whole process, as time passing would."""
    start = timezone.now()

    def move(by: timedelta):
        monkeypatch.setattr(timezone, "now", lambda: start + by)

    return move


def test_the_sessions_coming_up_move_on_when_the_first_ends(client, community, member, clock):
    client.force_login(member)
    for days in (1, 2, 3, 4):
        make_session(community, days=days, title=f"Meeting on day {days}")
    page = shown(client, community)
    assert [f"Meeting on day {d}" in page for d in (1, 2, 3, 4)] == [True, True, True, False]
    # Nothing written: only time passes, past the first session's end.
    clock(timedelta(days=1, hours=3))
    page = shown(client, community)
    assert [f"Meeting on day {d}" in page for d in (1, 2, 3, 4)] == [False, True, True, True]


def test_a_new_or_changed_session_shows_at_once(client, community, member):
    client.force_login(member)
    later = make_session(community, days=5, title="A later meeting")
    assert "A later meeting" in shown(client, community)
    make_session(community, days=1, title="A sooner meeting")
    assert "A sooner meeting" in shown(client, community)
    later.title = "A renamed meeting"
    later.save()
    page = shown(client, community)
    assert "A renamed meeting" in page and "A later meeting" not in page
    later.delete()
    assert "A renamed meeting" not in shown(client, community)


def test_surveys_leave_when_they_close_and_arrive_when_they_open(client, community, member, clock):
    client.force_login(member)
    now = timezone.now()
    closing, *_ = make_survey(community, closes_at=now + timedelta(days=1))
    closing.title = "Closes tomorrow"
    closing.save()
    opening, *_ = make_survey(community, opens_at=now + timedelta(days=2))
    opening.title = "Opens in two days"
    opening.save()
    page = shown(client, community)
    assert "Closes tomorrow" in page and "Opens in two days" not in page
    clock(timedelta(days=1, hours=12))
    page = shown(client, community)
    assert "Closes tomorrow" not in page and "Opens in two days" not in page
    clock(timedelta(days=2, hours=12))
    page = shown(client, community)
    assert "Closes tomorrow" not in page and "Opens in two days" in page


def test_a_survey_closed_or_unpublished_early_leaves_at_once(client, community, member):
    client.force_login(member)
    survey, *_ = make_survey(community)
    survey.title = "Open for now"
    survey.save()
    assert "Open for now" in shown(client, community)
    survey.published = False
    survey.save()
    assert "Open for now" not in shown(client, community)


def test_a_session_card_in_the_list_shows_each_change(client, community, member, coordinator):
    """The cards of the sessions list are kept by what they show: a cancellation or the
    last place taken is on the next page."""
    from engagement.models import Registration

    client.force_login(member)
    session = make_session(community, days=4, title="Letters workshop", capacity=1)
    url = f"/c/{community.slug}/sessions/"
    first = client.get(url).content.decode()
    assert "Letters workshop" in first and "Full: you can join" not in first
    Registration.objects.create(session=session, user=coordinator, status="registered")
    assert "Full: you can join the waiting list" in client.get(url).content.decode()
    session.title = "Letters workshop (moved)"
    session.save()
    assert "Letters workshop (moved)" in client.get(url).content.decode()
