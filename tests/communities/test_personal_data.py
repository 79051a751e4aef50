import pytest
from django.core.exceptions import ValidationError

from communities import services
from communities.models import Invitation, Membership
from members import personal_data
from members.services import erase_person

pytestmark = pytest.mark.django_db


def test_the_download_includes_memberships_and_invitations(
    community, other_community, member, other_coordinator
):
    services.invite(
        community=other_community, email=member.email, role="partner", by=other_coordinator
    )
    data = personal_data.export_for(member)
    [membership] = data["memberships"]
    assert membership["community"] == community.name and membership["role"] == "Member"
    [invitation] = data["invitations"]
    assert invitation["email"] == member.email


def test_nobody_elses_memberships_are_in_my_download(community, member, coordinator):
    data = personal_data.export_for(member)
    assert all(row["role"] == "Member" for row in data["memberships"])
    assert len(data["memberships"]) == 1


def test_erasure_keeps_the_membership_as_a_former_member(community, member):
    Membership.objects.filter(user=member).update(request_message="My son has Crohn's")
    erase_person(user=member)
    membership = Membership.objects.get(user=member)
    assert membership.status == "left"
    assert membership.request_message == ""
    assert membership.user.display_name == "a former member"
    assert not Invitation.objects.filter(email=member.email).exists()


def test_the_only_coordinator_cannot_delete_their_account(community, coordinator):
    with pytest.raises(ValidationError, match="only coordinator of Bowel care together"):
        erase_person(user=coordinator)
    coordinator.refresh_from_db()
    assert coordinator.erased_at is None


def test_deleting_is_refused_on_the_page_with_the_reason(client, community, coordinator):
    from tests.conftest import PASSWORD

    client.force_login(coordinator)
    response = client.post("/me/data/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 200
    assert "only coordinator" in response.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.erased_at is None and coordinator.is_active
