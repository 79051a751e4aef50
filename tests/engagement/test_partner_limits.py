"""A partner runs their own sessions and nothing else: key points of another's session, and
places where others' sessions meet, are out of their reach (refused, nothing changed)."""

import pytest
from django.urls import reverse

from communities.models import Membership, PartnerOrganisation
from engagement.models import KeyPoint, Venue
from tests.engagement.test_sessions import make_session

pytestmark = pytest.mark.django_db


def url(name, community, *args):
    return reverse(f"engagement:{name}", args=[community.slug, *args])


@pytest.fixture
def theirs(community, partner):
    session = make_session(community, title="Theirs")
    session.facilitators.add(partner)
    return session


@pytest.fixture
def others(community, coordinator):
    session = make_session(community, title="Someone else's")
    session.facilitators.add(coordinator)
    return session


def point_in(session, coordinator):
    return KeyPoint.objects.create(session=session, text="Too much jargon.", created_by=coordinator)


def test_a_partner_cannot_remove_a_key_point_from_a_session_they_do_not_run(
    client, community, partner, coordinator, theirs, others
):
    point = point_in(others, coordinator)
    client.force_login(partner)
    response = client.post(url("manage_key_point_remove", community, others.pk, point.pk))
    assert response.status_code == 404
    # Nor by naming their own session with another session's key point.
    response = client.post(url("manage_key_point_remove", community, theirs.pk, point.pk))
    assert response.status_code == 404
    assert KeyPoint.objects.filter(pk=point.pk).exists()


def test_a_partner_removes_a_key_point_from_their_own_session(
    client, community, partner, coordinator, theirs
):
    point = point_in(theirs, coordinator)
    client.force_login(partner)
    response = client.post(url("manage_key_point_remove", community, theirs.pk, point.pk))
    assert response.status_code == 302
    assert not KeyPoint.objects.filter(pk=point.pk).exists()


@pytest.fixture
def places(community, partner, theirs, others):
    """A place only the partner's session uses, one another's session uses too, and one
    nobody uses yet."""
    own = Venue.objects.create(community=community, name="Own hall", kind="other")
    shared = Venue.objects.create(community=community, name="Shared hall", kind="other")
    unused = Venue.objects.create(community=community, name="New hall", kind="other")
    theirs.venue = own
    theirs.save()
    others.venue = shared
    others.save()
    make_session(community, title="Also theirs", venue=shared).facilitators.add(partner)
    return own, shared, unused


@pytest.mark.parametrize(
    ("persona", "own", "shared", "unused"),
    [
        ("partner", 302, 403, 302),
        ("coordinator", 302, 302, 302),
        ("staff", 302, 302, 302),
        ("member", 403, 403, 403),
        ("other_coordinator", 403, 403, 403),
    ],
)
def test_who_may_change_a_place(
    client,
    request,
    community,
    places,
    persona,
    own,
    shared,
    unused,
    staff,
    member,
    other_coordinator,
):
    client.force_login(request.getfixturevalue(persona))
    for venue, expected in zip(places, (own, shared, unused), strict=True):
        response = client.post(
            url("manage_venue", community, venue.pk), {"name": "Renamed", "kind": "library"}
        )
        assert response.status_code == expected, venue.name
        venue.refresh_from_db()
        assert (venue.name == "Renamed") == (expected == 302), venue.name


def test_a_partner_sees_which_places_they_may_change(client, community, partner, places):
    own, shared, unused = places
    client.force_login(partner)
    response = client.get(url("manage_venues", community))
    assert [(v.name, may) for v, may in response.context["places"]] == [
        ("New hall", True),
        ("Own hall", True),
        ("Shared hall", False),
    ]
    page = response.content.decode()
    assert url("manage_venue", community, own.pk) in page
    assert url("manage_venue", community, shared.pk) not in page
    assert client.get(url("manage_venue", community, shared.pk)).status_code == 403
    # Adding a place stays open to them: they plan sessions.
    client.post(url("manage_venues", community), {"name": "Library", "kind": "library"})
    assert Venue.objects.filter(name="Library").exists()


# --- A partner's organisation -------------------------------------------------------------


@pytest.fixture
def charity(community):
    organisation = PartnerOrganisation.objects.create(name="Carers Sheffield", kind="charity")
    community.partners.add(organisation)
    return organisation


def member_url(community, membership):
    return reverse("communities:manage_member", args=[community.slug, membership.pk])


def test_a_coordinator_records_a_partners_organisation(
    client, community, coordinator, partner, charity
):
    membership = Membership.objects.get(user=partner)
    elsewhere = PartnerOrganisation.objects.create(name="Elsewhere", kind="nhs")
    client.force_login(coordinator)
    form = client.get(member_url(community, membership)).context["form"]
    assert list(form.fields["organisation"].queryset) == [charity]
    refused = client.post(
        member_url(community, membership), {"role": "partner", "organisation": elsewhere.pk}
    )
    assert "Select a valid choice" in refused.content.decode()
    client.post(member_url(community, membership), {"role": "partner", "organisation": charity.pk})
    membership.refresh_from_db()
    assert membership.organisation == charity


def test_only_a_partner_belongs_to_an_organisation(client, community, coordinator, member, charity):
    membership = Membership.objects.get(user=member)
    client.force_login(coordinator)
    response = client.post(
        member_url(community, membership), {"role": "member", "organisation": charity.pk}
    )
    assert "Only partners belong to a partner organisation." in response.content.decode()
    membership.refresh_from_db()
    assert membership.organisation is None


def test_a_partner_runs_the_sessions_their_organisation_hosts(
    client, community, coordinator, partner, charity, theirs, others
):
    hosted = make_session(community, title="Hosted by the charity", host=charity)
    url_of = {s: url("manage_session", community, s.pk) for s in (theirs, others, hosted)}
    client.force_login(partner)
    assert client.get(url_of[hosted]).status_code == 404
    Membership.objects.filter(user=partner).update(organisation=charity)
    listing = client.get(url("manage_sessions", community)).content.decode()
    assert "Hosted by the charity" in listing and "Theirs" in listing
    assert "Someone else" not in listing
    assert client.get(url_of[hosted]).status_code == 200
    assert client.get(url_of[others]).status_code == 404
    point = point_in(hosted, coordinator)
    response = client.post(url("manage_key_point_remove", community, hosted.pk, point.pk))
    assert response.status_code == 302 and not KeyPoint.objects.exists()
