"""Each idea's support and comment counts, kept by the services that change them: always the
number of its supporters and of its comments that show, whatever happened."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from improvement import services
from improvement.models import Comment, Idea, Support
from tests.improvement.factories import make_idea, new_member

pytestmark = pytest.mark.django_db


def counts(idea) -> tuple[int, int]:
    return tuple(Idea.objects.values_list("support_count", "comment_count").get(pk=idea.pk))


def counted_from_rows(idea) -> tuple[int, int]:
    return (
        Support.objects.filter(idea=idea).count(),
        Comment.objects.filter(idea=idea, hidden_at__isnull=True).count(),
    )


@pytest.fixture
def idea(community):
    return make_idea(community)


def test_supporting_and_withdrawing_keep_the_count(community, idea, member, partner):
    assert counts(idea) == (0, 0)
    services.support_idea(idea=idea, user=member)
    services.support_idea(idea=idea, user=member)  # twice counts once
    services.support_idea(idea=idea, user=partner)
    assert counts(idea) == (2, 0) == counted_from_rows(idea)
    services.withdraw_support(idea=idea, user=member)
    services.withdraw_support(idea=idea, user=member)  # nothing more to take away
    assert counts(idea) == (1, 0) == counted_from_rows(idea)


def test_comments_count_until_hidden(community, idea, member, partner, coordinator):
    first = services.add_comment(idea=idea, user=member, text="Yes please")
    services.add_comment(idea=idea, user=member, text="Yes please")  # a double tap, kept once
    services.add_comment(idea=idea, user=partner, text="And at weekends")
    assert counts(idea) == (0, 2) == counted_from_rows(idea)
    services.edit_comment(comment=first, user=member, text="Yes, please")
    assert counts(idea) == (0, 2)
    services.hide_comment(comment=first, by=coordinator, reason="Off topic")
    services.hide_comment(comment=first, by=coordinator, reason="Still off topic")
    assert counts(idea) == (0, 1) == counted_from_rows(idea)


def test_a_merge_moves_the_counts_with_the_supports_and_comments(
    community, member, partner, coordinator
):
    source, target = make_idea(community, title="Source"), make_idea(community, title="Target")
    both = new_member(community, "both@example.org")
    for person in (member, both):
        services.support_idea(idea=source, user=person)
    for person in (partner, both):
        services.support_idea(idea=target, user=person)
    services.add_comment(idea=source, user=member, text="On the source")
    hidden = services.add_comment(idea=source, user=partner, text="Rude")
    services.hide_comment(comment=hidden, by=coordinator, reason="Rude")
    services.add_comment(idea=target, user=partner, text="On the target")
    assert counts(source) == (2, 1) and counts(target) == (2, 1)

    services.merge_ideas(source=source, target=target, by=coordinator, note="Same")

    # Each supporter once; the hidden comment moved but still does not count.
    assert counts(target) == (3, 2) == counted_from_rows(target)
    assert counts(source) == (0, 0) == counted_from_rows(source)


def test_a_support_deleted_in_the_admin_is_no_longer_counted(client, idea, member, partner, staff):
    services.support_idea(idea=idea, user=member)
    services.support_idea(idea=idea, user=partner)
    client.force_login(staff)
    support = Support.objects.get(idea=idea, user=member)
    response = client.post(
        reverse("admin:improvement_support_changelist"),
        {"action": "delete_selected", "_selected_action": [support.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert counts(idea) == (1, 0) == counted_from_rows(idea)
    client.post(
        reverse("admin:improvement_support_delete", args=[Support.objects.get().pk]),
        {"post": "yes"},
    )
    assert counts(idea) == (0, 0)


def test_the_migration_counts_what_is_there(community, member, partner, coordinator):
    quiet, busy = make_idea(community, title="Quiet"), make_idea(community, title="Busy")
    # Rows as they were before ideas kept counts: written straight to the tables.
    for person in (member, partner, coordinator):
        Support.objects.create(idea=busy, user=person)
    Comment.objects.create(idea=busy, author=member, text="Shown")
    Comment.objects.create(idea=busy, author=partner, text="Hidden", hidden_at=busy.created_at)
    assert counts(busy) == (0, 0)

    migration = importlib.import_module("improvement.migrations.0007_idea_counts")
    migration.fill_counts(apps, None)

    assert counts(busy) == (3, 1)
    assert counts(quiet) == (0, 0)


def test_the_list_shows_and_sorts_by_the_kept_counts(client, community, member, partner):
    few, many = make_idea(community, title="Few"), make_idea(community, title="Many")
    services.support_idea(idea=few, user=member)
    for person in (member, partner):
        services.support_idea(idea=many, user=person)
    services.add_comment(idea=many, user=member, text="Yes")
    url = reverse("improvement:ideas", args=[community.slug])
    response = client.get(url, {"sort": "supported"})
    assert [i.title for i in response.context["page"].object_list] == ["Many", "Few"]
    text = " ".join(response.content.decode().split())
    assert "2 supporters · 1 comment" in text and "1 supporter · 0 comments" in text
    services.withdraw_support(idea=many, user=partner)
    services.withdraw_support(idea=many, user=member)
    response = client.get(url, {"sort": "supported"})
    assert [i.title for i in response.context["page"].object_list] == ["Few", "Many"]
