"""Each role finds what it may use: partners their management pages, scorers the rounds
waiting for their scores, members the surveys open to them. Every link is decided by the
access functions, so nobody is offered a page that would refuse them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Membership
from engagement.models import Survey
from improvement import services
from improvement.models import Scorer
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db

PROFILE = reverse("members:profile")


def page_for(client, person, path):
    client.force_login(person)
    return client.get(path).content.decode()


def partner_links(community):
    return [
        reverse("engagement:manage_sessions", args=[community.slug]),
        reverse("engagement:manage_venues", args=[community.slug]),
        reverse("improvement:idea_on_behalf", args=[community.slug]),
    ]


@pytest.mark.parametrize(
    ("persona", "shown"),
    [("partner", True), ("member", False), ("coordinator", False), ("outsider", False)],
)
def test_a_partner_finds_the_management_pages_they_may_use(
    client, request, community, persona, shown, partner, member, coordinator, outsider
):
    page = page_for(client, request.getfixturevalue(persona), community.get_absolute_url())
    for link in partner_links(community):
        assert (f'href="{link}"' in page) == shown, link
    assert ("Sessions you run" in page) == shown


def test_the_manage_menu_a_partner_sees_lists_their_pages(client, community, partner):
    page = page_for(client, partner, reverse("engagement:manage_sessions", args=[community.slug]))
    for link in partner_links(community):
        assert f'href="{link}"' in page, link
    assert reverse("engagement:manage_claims", args=[community.slug]) not in page
    # And each of them opens for a partner.
    for link in partner_links(community):
        assert client.get(link).status_code == 200, link


def test_a_partner_who_left_is_offered_nothing(client, community, partner):
    Membership.objects.filter(user=partner).update(status=Membership.Status.LEFT)
    page = page_for(client, partner, community.get_absolute_url())
    assert "Sessions you run" not in page
    assert reverse("improvement:idea_on_behalf", args=[community.slug]) not in page


@pytest.fixture
def open_round(community, coordinator, member):
    ideas = [make_idea(community, title="Letters"), make_idea(community, title="Parking")]
    round_ = services.create_round(
        community=community, by=coordinator, title="Spring priorities", description="", ideas=ideas
    )
    services.invite_scorers(round=round_, people={member: Scorer.Group.COMMUNITY}, by=coordinator)
    return services.open_round(round=round_)


def test_a_scorer_finds_the_rounds_waiting_for_their_scores(
    client, community, member, partner, open_round
):
    sheet = open_round.get_absolute_url()
    for path in (PROFILE, community.get_absolute_url()):
        page = page_for(client, member, path)
        assert "Rounds waiting for your scores" in page and f'href="{sheet}"' in page, path
        others = page_for(client, partner, path)
        assert "Rounds waiting for your scores" not in others and sheet not in others, path
    client.force_login(member)
    assert client.get(sheet).status_code == 200
    services.close_round(round=open_round)
    for path in (PROFILE, community.get_absolute_url()):
        assert "Rounds waiting for your scores" not in page_for(client, member, path), path


def test_members_see_the_surveys_open_to_them(client, community, member, outsider):
    now = timezone.now()
    shown = Survey.objects.create(community=community, title="Clinic letters", published=True)
    Survey.objects.create(community=community, title="A draft", published=False)
    Survey.objects.create(
        community=community, title="Last year", published=True, closes_at=now - timedelta(days=1)
    )
    Survey.objects.create(
        community=community, title="Next month", published=True, opens_at=now + timedelta(days=30)
    )
    page = page_for(client, member, community.get_absolute_url())
    assert "Surveys open now" in page and f'href="{shown.get_absolute_url()}"' in page
    for title in ("A draft", "Last year", "Next month"):
        assert title not in page
    assert "Surveys open now" not in page_for(client, outsider, community.get_absolute_url())
