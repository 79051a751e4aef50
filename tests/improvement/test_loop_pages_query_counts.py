"""The coordinators' dashboard and the public community page cost the same queries whatever
the community has done: a few inputs or a few hundred, with merges, decisions, answered and
overdue inputs, members in every state, and claims waiting and paid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from communities.models import Invitation, Membership
from engagement import payments
from engagement.models import Claim, Expense, Registration, Response, Session, Survey
from improvement import loop
from improvement.models import Idea, Update
from members import revisions
from members.models import User

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def grow(community, n, tag):
    """Add n of everything the two pages count or list."""
    now = timezone.now()
    people = User.objects.bulk_create(User(email=f"{tag}{i}@example.org") for i in range(n))
    Membership.objects.bulk_create(
        Membership(community=community, user=person, status=("active", "left", "requested")[i % 3])
        for i, person in enumerate(people)
    )
    Invitation.objects.bulk_create(
        Invitation(community=community, email=f"inv-{tag}{i}@example.org", expires_at=now + 7 * DAY)
        for i in range(n)
    )
    ideas = Idea.objects.bulk_create(
        Idea(
            community=community,
            title=f"Idea {tag}{i}",
            description="d",
            created_at=now - (i * 7 % 90 + 1) * DAY,
            decided_at=now - (i % 5) * DAY if i % 3 == 0 else None,
        )
        for i in range(3 * n)
    )
    # A fifth merged into the first few, as merging leaves them.
    for idea in ideas[3::5]:
        idea.status, idea.merged_into = Idea.Status.MERGED, ideas[0]
    Idea.objects.bulk_update(ideas, ["status", "merged_into"])
    sessions = Session.objects.bulk_create(
        Session(
            community=community,
            title=f"Session {tag}{i}",
            kind="drop_in",
            status="completed",
            starts_at=now - (i % 60 + 2) * DAY,
            ends_at=now - (i % 60 + 1) * DAY,
            walk_in_count=i % 2,
        )
        for i in range(n)
    )
    Registration.objects.bulk_create(
        Registration(session=session, user=person, attended=True)
        for session, person in zip(sessions, people, strict=True)
    )
    surveys = Survey.objects.bulk_create(
        Survey(
            community=community,
            title=f"Survey {tag}{i}",
            published=True,
            closes_at=None if i % 4 == 0 else now - (i % 50 + 1) * DAY,
        )
        for i in range(n)
    )
    Response.objects.bulk_create(Response(survey=survey) for survey in surveys)
    updates = Update.objects.bulk_create(
        Update(
            community=community,
            title=f"U{tag}{i}",
            what_we_heard="h",
            what_we_did="d",
            status="published" if i % 4 else "draft",
            published_at=now - (i % 20) * DAY,
        )
        for i in range(n)
    )
    Update.ideas.through.objects.bulk_create(
        Update.ideas.through(update=update, idea=idea)
        for update, idea in zip(updates, ideas[::2], strict=False)
    )
    Update.sessions.through.objects.bulk_create(
        Update.sessions.through(update=update, session=session)
        for update, session in zip(updates[::2], sessions, strict=False)
    )
    Update.surveys.through.objects.bulk_create(
        Update.surveys.through(update=update, survey=survey)
        for update, survey in zip(updates[::3], surveys, strict=False)
    )
    claims = Claim.objects.bulk_create(
        Claim(
            community=community,
            claimant=person,
            kind="hours",
            activity="training",
            date=timezone.localdate() - (i % 30) * DAY,
            hours=1,
            fee=Decimal("20"),
            payable=Decimal("20"),
            choice="accept",
            status=("submitted", "approved", "paid", "rejected")[i % 4],
        )
        for i, person in enumerate(people)
    )
    Expense.objects.bulk_create(
        Expense(claim=claim, kind="travel", amount=Decimal("3.50")) for claim in claims
    )
    # Written in bulk: no signals raise the revisions the panels are kept under.
    loop.changed(community)
    revisions.bump(
        revisions.key(payments.CLAIMS_REVISION, community.pk),
        revisions.key(Membership.MEMBERS_REVISION, community.pk),
    )


def page(client, path, django_assert_num_queries, queries):
    with django_assert_num_queries(queries):
        response = client.get(path)
    assert response.status_code == 200
    return response


def loop_panel(response):
    [panel] = [p for template, p in response.context["panels"] if "loop" in template]
    return panel


# On PostgreSQL the answered inputs' median and 90th percentile come with their count; on
# SQLite the waits at those ranks are two more queries.
RANKS = 0 if connection.vendor == "postgresql" else 2


@pytest.mark.parametrize("large", [60, 300])
def test_the_dashboard_costs_the_same_queries_small_and_large(
    client, community, coordinator, django_assert_num_queries, large
):
    client.force_login(coordinator)
    path = reverse("communities:manage_dashboard", args=[community.slug])
    # The session, the person, the community, whether they coordinate it; the revisions of
    # the counts of people and of both panels (one query); then (not kept yet) members by
    # status and invitations pending (2); emails failed and people to write to or call (1);
    # the payments panel: claims waiting, payment settings, time and expenses approved this
    # tax year (1), and the coordinator's own claims waiting (1); the loop panel: the inputs
    # counted, the answered ones counted and ranked, the oldest overdue ideas, sessions and
    # surveys (5); the latest surveys.
    queries = 16 + RANKS
    grow(community, 3, "a")
    small = loop_panel(page(client, path, django_assert_num_queries, queries))
    grow(community, large, "b")
    big = loop_panel(page(client, path, django_assert_num_queries, queries))
    # Seen again with nothing changed, the counts of people and both panels are kept: the
    # page reads their revisions, the deliveries' counts and the latest surveys.
    again = loop_panel(page(client, path, django_assert_num_queries, 7))
    assert again["figures"] == big["figures"]
    # The same page, with more in it.
    assert small["figures"].total < big["figures"].total
    assert 0 < small["overdue_count"] < big["overdue_count"]
    assert big["figures"].answered_count > small["figures"].answered_count > 0
    assert len(big["overdue"]) == 20
    assert big["unanswered_decisions"] > small["unanswered_decisions"] > 0


@pytest.mark.parametrize("large", [60, 300])
def test_the_community_page_costs_the_same_queries_small_and_large(
    client, community, member, django_assert_num_queries, large
):
    client.force_login(member)
    path = community.get_absolute_url()
    # The community, the session, the person, their membership (which also says whether
    # they coordinate it), the revisions of every kept part (one query); the loop panel's
    # figures: ideas counted, answered ideas counted and ranked, and its latest updates
    # (kept after); the next sessions and the surveys open now (kept until they move on);
    # the partner organisations and the rounds waiting for this person's scores.
    grow(community, 3, "a")
    small = page(client, path, django_assert_num_queries, 12 + RANKS)
    grow(community, large, "b")
    # New ideas: the figures and the latest updates are counted again, nothing else.
    big = page(client, path, django_assert_num_queries, 10 + RANKS)
    # Nothing new: the seven queries of a page read from what is kept.
    again = page(client, path, django_assert_num_queries, 7)
    assert loop_panel(again)["figures"] == loop_panel(big)["figures"]
    assert loop_panel(small)["figures"].total < loop_panel(big)["figures"].total
    for response in (small, big):
        assert "We have answered" in response.content.decode()
