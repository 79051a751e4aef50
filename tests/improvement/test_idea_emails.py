"""The emails ideas send: coordinators hear of a reported comment, scorers are invited."""

import pytest
from django.urls import reverse

from communities.models import Membership
from improvement import services
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


def test_coordinators_are_emailed_a_link_to_reported_comments(
    client, community, coordinator, member, mailoutbox, django_capture_on_commit_callbacks
):
    idea = services.add_idea(community=community, by=member, title="Lifts", description="d")
    writer = make_person("wyn@example.org", name="Wyn")
    Membership.objects.create(community=community, user=writer)
    comment = services.add_comment(idea=idea, user=writer, text="Something unkind")
    client.force_login(member)
    url = reverse("improvement:comment_report", args=[community.slug, idea.pk, comment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Unkind to a carer"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Reporting again"})  # the coordinators hear once
    [email] = mailoutbox
    assert email.to == [coordinator.email]
    assert email.subject == "A comment was reported in Bowel care together"
    assert "“Lifts”" in email.body
    assert reverse("improvement:manage_reports", args=[community.slug]) in email.body
    # The reporter's words and the comment itself stay on the site, not in email.
    assert "Unkind to a carer" not in email.body and "Something unkind" not in email.body


def test_scorers_are_emailed_when_the_round_opens_and_late_invitees_at_once(
    community, coordinator, member, mailoutbox, django_capture_on_commit_callbacks
):
    idea = services.add_idea(community=community, by=member, title="Lifts", description="d")
    round_ = services.create_round(
        community=community, by=coordinator, title="Spring", description="", ideas=[idea]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_scorers(round=round_, people={member: "community"}, by=coordinator)
    assert mailoutbox == []  # being set up: nobody is told yet
    with django_capture_on_commit_callbacks(execute=True):
        services.open_round(round=round_)
    [email] = mailoutbox
    assert email.to == [member.email]
    assert email.subject == "Please help us prioritise: Spring"
    assert "Please score 1 idea" in email.body
    assert reverse("improvement:round_score", args=[community.slug, round_.pk]) in email.body
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_scorers(round=round_, people={coordinator: "professional"}, by=coordinator)
    assert [m.to for m in mailoutbox] == [[member.email], [coordinator.email]]
