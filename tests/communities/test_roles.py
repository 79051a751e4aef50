"""Who may see what: every communities view for every persona."""

import pytest
from django.urls import reverse

from communities.models import Invitation, Membership
from tests.conftest import PERSONAS, client_as

pytestmark = pytest.mark.django_db

# GET views of the coordinators' area: coordinators here and staff only.
MANAGE = {"anonymous": 302, "outsider": 403, "member": 403, "partner": 403, "coordinator": 200,
          "other_coordinator": 403, "staff": 200}  # fmt: skip


MANAGE_PAGES = [
    "communities:manage_dashboard",
    "communities:manage_members",
    "communities:manage_members_csv",
    "communities:manage_requests",
    "communities:manage_invitations",
    "communities:manage_edit",
    "communities:manage_involvement",
    "communities:manage_partners",
    "communities:manage_contact_list",
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", MANAGE_PAGES)
def test_coordinators_area_pages(client, request, everyone, community, persona, name):
    client_as(client, request, persona)
    response = client.get(reverse(name, args=[community.slug]))
    assert response.status_code == MANAGE[persona]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_member_detail_in_the_coordinators_area(
    client, request, everyone, community, member, persona
):
    membership = Membership.objects.get(user=member, community=community)
    url = reverse("communities:manage_member", args=[community.slug, membership.pk])
    client_as(client, request, persona)
    assert client.get(url).status_code == MANAGE[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_public_community_page_is_open_to_all(client, request, everyone, community, persona):
    client_as(client, request, persona)
    response = client.get(community.get_absolute_url())
    assert response.status_code == 200
    manage_link = reverse("communities:manage_dashboard", args=[community.slug])
    assert (f'href="{manage_link}"' in response.content.decode()) == (MANAGE[persona] == 200)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 302), ("outsider", 200), ("member", 302), ("partner", 302),
     ("coordinator", 302), ("other_coordinator", 200), ("staff", 200)],
)  # fmt: skip
def test_join_page(client, request, everyone, community, persona, expected):
    # Members of this community are sent back to it; others see the form; visitors log in.
    client_as(client, request, persona)
    response = client.get(reverse("communities:join", args=[community.slug]))
    assert response.status_code == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_choices_and_leave_need_a_membership(client, request, everyone, community, persona):
    client_as(client, request, persona)
    for name in ("communities:choices", "communities:leave"):
        response = client.get(reverse(name, args=[community.slug]))
        in_community = persona in ("member", "partner", "coordinator")
        assert response.status_code == (200 if in_community else 302), (name, persona)


def test_an_object_from_another_community_is_not_found(
    client, community, other_community, coordinator, other_coordinator
):
    theirs = Membership.objects.get(user=other_coordinator, community=other_community)
    invitation = Invitation.objects.create(community=other_community, email="x@example.org")
    partner = other_community.partners.create(name="Their partner", kind="charity")
    option = other_community.involvement_options.create(name="Theirs")
    client.force_login(coordinator)
    slug = community.slug
    gets = [
        reverse("communities:manage_member", args=[slug, theirs.pk]),
        reverse("communities:manage_involvement_edit", args=[slug, option.pk]),
        reverse("communities:manage_partner_edit", args=[slug, partner.pk]),
    ]
    posts = [
        *gets,
        reverse("communities:manage_member_remove", args=[slug, theirs.pk]),
        reverse("communities:manage_decide", args=[slug, theirs.pk]),
        reverse("communities:manage_invitation_resend", args=[slug, invitation.pk]),
        reverse("communities:manage_invitation_revoke", args=[slug, invitation.pk]),
        reverse("communities:manage_partner_unlink", args=[slug, partner.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"role": "member", "decision": "approve"}).status_code == 404, url
    theirs.refresh_from_db()
    invitation.refresh_from_db()
    assert theirs.status == "active" and invitation.revoked_at is None


@pytest.mark.parametrize("persona", ["outsider", "member", "partner", "other_coordinator"])
def test_non_coordinators_cannot_post_to_the_coordinators_area(
    client, request, everyone, community, member, persona
):
    membership = Membership.objects.get(user=member, community=community)
    client_as(client, request, persona)
    urls = [
        reverse("communities:manage_member_remove", args=[community.slug, membership.pk]),
        reverse("communities:manage_edit", args=[community.slug]),
        reverse("communities:manage_invitations", args=[community.slug]),
    ]
    for url in urls:
        response = client.post(url, {"name": "Taken over", "email": "x@example.org"})
        assert response.status_code == 403, url
    membership.refresh_from_db()
    community.refresh_from_db()
    assert membership.status == "active" and community.name != "Taken over"
    assert not Invitation.objects.exists()
