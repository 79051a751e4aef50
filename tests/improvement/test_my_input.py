""" "What happened to my input" for a busy member: page after page, the same items in the same
order, with the same statuses and updates, as the rules say, however the page is cut."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from engagement.models import Participation, Response, Survey
from improvement import services
from improvement.models import Comment, Idea, Support, Update
from improvement.update_views import INPUT_PER_PAGE
from tests.conftest import make_person
from tests.improvement.factories import came, make_idea, past_session

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def published(community, title, when, *, ideas=(), sessions=(), surveys=(), draft=False):
    update = Update.objects.create(
        community=community,
        title=title,
        what_we_heard="h",
        what_we_did="d",
        **({} if draft else {"status": Update.Status.PUBLISHED, "published_at": when}),
    )
    update.ideas.set(ideas)
    update.sessions.set(sessions)
    update.surveys.set(surveys)
    return update


@pytest.fixture
def busy(community, coordinator, member):
    """Twelve of each kind of input from `member`, a few hours apart and interleaved, with
    updates on some, a merge, ideas made from their answers and heard at their sessions,
    drafts and input that is not theirs. Returns what the page must list, newest first:
    (label, title, status, link, update titles newest first)."""
    now = timezone.now()
    other = make_person("other@example.org", name="Other")
    expected = []  # (when, order of kind, row)

    def expect(when, kind, label, title, status, link, updates):
        expected.append((when, kind, (label, title, status, link, updates)))

    for i in range(12):
        when = now - (5 * i) * HOUR
        idea = make_idea(community, author=member, title=f"Mine {i}", created_at=when)
        updates = []
        if i % 3 == 0:
            published(community, f"On mine {i}", now - i * HOUR, ideas=[idea])
            updates = [f"On mine {i}"]
        if i == 4:
            Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.CONSIDERING)
        status = "Under consideration" if i == 4 else "New"
        expect(when, 0, "Your idea", idea.title, status, idea.get_absolute_url(), updates)

        when = now - (5 * i + 1) * HOUR
        theirs = make_idea(community, author=other, title=f"Supported {i}")
        Support.objects.create(idea=theirs, user=member, created_at=when)
        updates = []
        if i % 2 == 0:
            published(community, f"Old on supported {i}", now - 100 * HOUR, ideas=[theirs])
            published(community, f"New on supported {i}", now - 2 * HOUR, ideas=[theirs])
            updates = [f"New on supported {i}", f"Old on supported {i}"]
        expect(when, 1, "You supported", theirs.title, "New", theirs.get_absolute_url(), updates)

        when = now - (5 * i + 2) * HOUR
        talked = make_idea(community, author=other, title=f"Discussed {i}")
        Comment.objects.create(idea=talked, author=member, text="first", created_at=when - HOUR)
        last = Comment.objects.create(idea=talked, author=member, text="last", created_at=when)
        Comment.objects.create(idea=talked, author=other, text="later", created_at=now)
        if i == 7:  # a hidden comment is still something they gave
            services.hide_comment(comment=last, by=coordinator, reason="Off topic")
        published(community, f"Draft on discussed {i}", None, ideas=[talked], draft=True)
        expect(when, 2, "You discussed", talked.title, "New", talked.get_absolute_url(), [])

        when = now - (5 * i + 3) * HOUR
        survey = Survey.objects.create(
            community=community,
            title=f"Survey {i}",
            published=True,
            opens_at=now - 300 * HOUR,
            closes_at=when,
        )
        Response.objects.create(survey=survey)
        Participation.objects.create(survey=survey, user=member)
        updates = []
        if i % 4 == 1:
            published(community, f"On survey {i}", now - 3 * HOUR, surveys=[survey])
            updates = [f"On survey {i}"]
        expect(when, 3, "You answered", survey.title, "Closed", survey.get_absolute_url(), updates)

        when = now - (5 * i + 4) * HOUR
        session = past_session(
            community, title=f"Session {i}", starts_at=when, ends_at=when + 2 * HOUR
        )
        came(session, member)
        updates = []
        if i % 4 == 2:
            published(community, f"On session {i}", now - 4 * HOUR, sessions=[session])
            updates = [f"On session {i}"]
        expect(when, 4, "You came to", session.title, "Held", session.get_absolute_url(), updates)

    # A merge: their duplicate links to the idea it joined, with the updates on that idea
    # and on another idea merged into it before.
    when = now - 7 * HOUR
    kept = make_idea(community, author=other, title="Kept")
    sibling = make_idea(community, author=other, title="Sibling")
    published(community, "On the sibling", now - 50 * HOUR, ideas=[sibling])
    services.merge_ideas(source=sibling, target=kept, by=coordinator, note="Same")
    duplicate = make_idea(community, author=member, title="My duplicate", created_at=when)
    services.merge_ideas(source=duplicate, target=kept, by=coordinator, note="Same")
    published(community, "On the kept idea", now - 5 * HOUR, ideas=[kept])
    expect(
        when,
        0,
        "Your idea",
        "My duplicate",
        "Merged into “Kept”: New",
        kept.get_absolute_url(),
        ["On the kept idea", "On the sibling"],
    )

    # An open survey sorts by when it opened; an idea made from their answer to it, and one
    # heard at a session they came to, answer those inputs.
    from tests.improvement.factories import key_point, survey_answer

    when = now - 67 * HOUR / 2
    open_survey = Survey.objects.create(community=community, title="Open", published=True)
    answer = survey_answer(community, user=member, text="Cheaper parking")
    assert answer.response.survey == open_survey
    Survey.objects.filter(pk=open_survey.pk).update(opens_at=when, closes_at=None)
    Participation.objects.create(survey=open_survey, user=member)
    parking = services.add_idea(
        community=community, by=coordinator, title="Parking", description="d", survey_answer=answer
    )
    published(community, "About parking", now - 6 * HOUR, ideas=[parking])
    expect(
        when,
        3,
        "You answered",
        open_survey.title,
        "Open",
        open_survey.get_absolute_url(),
        ["About parking"],
    )

    when = now - 66 * HOUR
    heard = past_session(community, title="Heard there", starts_at=when, ends_at=when + HOUR)
    came(heard, member)
    letters = services.add_idea(
        community=community,
        by=coordinator,
        title="Letters",
        description="d",
        key_point=key_point(heard),
    )
    published(community, "About letters", now - 8 * HOUR, ideas=[letters])
    published(community, "On the session", now - 9 * HOUR, sessions=[heard])
    expect(
        when,
        4,
        "You came to",
        "Heard there",
        "Held",
        heard.get_absolute_url(),
        ["About letters", "On the session"],
    )

    # Not theirs: a session they missed, an idea they did not touch.
    missed = past_session(community, title="Missed", starts_at=now - HOUR, ends_at=now)
    came(missed, member, attended=False)
    make_idea(community, author=other, title="Not mine")

    expected.sort(key=lambda e: (-e[0].timestamp(), e[1]))
    return [row for _when, _kind, row in expected]


def test_a_busy_members_input_is_listed_in_full_page_after_page(client, member, busy):
    client.force_login(member)
    shown, page_number = [], 1
    while True:
        response = client.get(reverse("improvement:my_input"), {"page": page_number})
        page = response.context["page"]
        assert page.paginator.count == len(busy)
        items = response.context["items"]
        assert len(items) == (INPUT_PER_PAGE if page.has_next() else len(busy) % INPUT_PER_PAGE)
        shown += [
            (i["label"], i["title"], i["status"], i["link"], [u.title for u in i["updates"]])
            for i in items
        ]
        if not page.has_next():
            break
        page_number += 1
    assert page_number == 3
    assert shown == busy


def test_dates_on_the_page_are_those_of_the_date_filter(client, member, busy):
    from django.template.defaultfilters import date

    client.force_login(member)
    response = client.get(reverse("improvement:my_input"))
    text = response.content.decode()
    for item in response.context["items"]:
        # As a template shows it: in the current time zone.
        assert item["day"] == date(timezone.localtime(item["when"]), "j F Y")
        for update in item["updates"]:
            assert f"({date(timezone.localtime(update.published_at), 'j F Y')})" in text


def test_the_board_dates_its_updates_as_the_date_filter_does(client, community, settings):
    from django.template.defaultfilters import date

    settings.TIME_ZONE = "Europe/London"
    # Half past midnight in London in summer: still the day before in UTC.
    when = timezone.make_aware(
        timezone.datetime(2026, 7, 2, 0, 30), timezone.get_fixed_timezone(60)
    )
    published(community, "Late at night", when)
    response = client.get(reverse("improvement:updates", args=[community.slug]))
    [update] = response.context["page"].object_list
    assert update.day == date(timezone.localtime(update.published_at), "j F Y") == "2 July 2026"
    assert '<p class="text-body-secondary">2 July 2026</p>' in response.content.decode()
