"""Every page of a community costs the same number of queries with 3 rows or 30."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities import services
from communities.models import Community, Membership, MembershipPerspective, PartnerOrganisation
from members import outbox
from members.models import User
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


def fill(community, coordinator, n):
    """n of everything a coordinator's pages list."""
    community.ensure_default_involvement_options()
    option = community.involvement_options.first()
    for i in range(n):
        person = make_person(f"fill{n}-{i}@example.org", name=f"Fill {i}")
        m = Membership.objects.create(community=community, user=person, status="active")
        MembershipPerspective.objects.create(membership=m, perspective="patient")
        m.involvement.add(option)
        asker = make_person(f"ask{n}-{i}@example.org")
        services.join_community(
            community=community, user=asker, perspectives=["carer"], involvement=[option]
        )
        services.invite(
            community=community, email=f"inv{n}-{i}@example.org", role="member", by=coordinator
        )
        partner = PartnerOrganisation.objects.create(name=f"Partner {n}-{i}", kind="charity")
        community.partners.add(partner)
        paper = User.objects.create(
            email=f"paper{n}-{i}@example.org", contact_channel="phone", phone="0114"
        )
        outbox.notify(recipients=[paper], kind="request_approved", about=m, community=community)


PAGES = [
    "",
    "members/",
    "requests/",
    "invitations/",
    "partners/",
    "involvement/",
    "contact/",
    "edit/",
]


def count(client, path):
    # Every count is of a first view: figures kept from the view before (the loop's, when
    # nothing they count has changed) would make the second view cheaper, not the same.
    caches["computed"].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_coordinator_pages_do_not_grow_with_the_data(client, community, coordinator, page):
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    client.force_login(coordinator)
    path = f"/c/{community.slug}/manage/{page}"
    fill(community, coordinator, 3)
    few = count(client, path)
    fill(community, coordinator, 27)
    assert count(client, path) == few, path


def test_public_pages_do_not_grow_with_the_data(client, community, coordinator, member):
    client.force_login(member)
    fill(community, coordinator, 3)
    few = [count(client, p) for p in ("/", community.get_absolute_url(), "/me/")]
    fill(community, coordinator, 27)
    assert [count(client, p) for p in ("/", community.get_absolute_url(), "/me/")] == few
