import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services
from communities.models import Invitation, Membership
from members.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(community, coordinator, mailoutbox, django_capture_on_commit_callbacks):
    community.ensure_default_involvement_options()
    with django_capture_on_commit_callbacks(execute=True):
        return services.invite(
            community=community, email="Newcomer@Example.org", role="partner", by=coordinator
        )


def accept_data(community, **extra):
    return {
        "password1": "lantern-river-2026",
        "password2": "lantern-river-2026",
        "perspectives": ["voluntary"],
        "involvement": [community.involvement_options.first().pk],
        "agree": "on",
        **extra,
    }


def test_invitation_email_carries_a_working_link(invitation, mailoutbox):
    assert mailoutbox[0].to == ["newcomer@example.org"]
    link = re.search(r"http\S+/invitations/\S+/", mailoutbox[0].body).group(0)
    assert link.endswith(invitation.get_absolute_url())


def test_a_person_with_no_account_signs_up_from_the_link_and_lands_in_the_community(
    client, invitation, community
):
    response = client.post(invitation.get_absolute_url(), accept_data(community))
    assert response.status_code == 302
    assert response["Location"] == community.get_absolute_url()
    user = User.objects.get(email="newcomer@example.org")
    assert user.emailaddress_set.get().verified
    membership = Membership.objects.get(user=user, community=community)
    assert membership.status == "active" and membership.role == "partner"
    assert client.session["_auth_user_id"] == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_by == user


def test_a_short_password_is_refused_and_the_choices_kept(client, invitation, community):
    data = accept_data(community, password1="short", password2="short")
    response = client.post(invitation.get_absolute_url(), data)
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.filter(email="newcomer@example.org").exists()


def test_a_used_link_does_not_work_twice(client, invitation, community):
    client.post(invitation.get_absolute_url(), accept_data(community))
    client.logout()
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_an_expired_link_is_refused_and_resending_renews_it(
    client, invitation, mailoutbox, django_capture_on_commit_callbacks
):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 410 and "expired" in response.content.decode()
    invitation.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(invitation=invitation)
    assert client.get(invitation.get_absolute_url()).status_code == 200
    assert len(mailoutbox) == 2


def test_a_withdrawn_link_is_refused(client, invitation):
    services.revoke_invitation(invitation=invitation)
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 410 and "withdrawn" in response.content.decode()


def test_someone_with_an_account_is_asked_to_sign_in_first(client, community, coordinator):
    existing = User.objects.create_user(email="known@example.org", password=PASSWORD)
    invitation = services.invite(
        community=community, email="known@example.org", role="member", by=coordinator
    )
    # Nothing about the person shows to coordinators until they accept.
    assert not Membership.objects.filter(user=existing).exists()
    page = client.get(invitation.get_absolute_url()).content.decode()
    assert "Sign in to accept" in page
    client.force_login(existing)
    community.ensure_default_involvement_options()
    data = accept_data(community)
    client.post(invitation.get_absolute_url(), data)
    assert Membership.objects.get(user=existing).status == "active"


def test_the_wrong_account_cannot_use_someone_elses_invitation(client, invitation, outsider):
    client.force_login(outsider)
    response = client.get(invitation.get_absolute_url())
    assert response.status_code == 403
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_link_whose_community_address_changed_still_works(client, invitation, community):
    url = reverse("communities:invitation", args=["old-address", invitation.token])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == invitation.get_absolute_url()


def test_an_unknown_token_is_not_found(client, community):
    url = reverse("communities:invitation", args=[community.slug, "not-a-real-token"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter a whole email address"),
        ("michael@example.org", "already a member or has been invited"),
        ("newcomer@example.org", "already has an invitation waiting"),
    ],
)
def test_bad_invitations_are_refused_next_to_the_field(
    client, community, coordinator, member, invitation, email, message
):
    client.force_login(coordinator)
    response = client.post(
        reverse("communities:manage_invitations", args=[community.slug]),
        {"email": email, "role": "member", "message": "Hello"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'value="{email}"' in page
