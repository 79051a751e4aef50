"""What must not happen: private details leaking, server errors, lock-outs and silent edits."""

import csv
import io

import pytest
from django.urls import reverse

from communities import services
from communities.models import Community, Invitation, Membership, PartnerOrganisation
from members.models import Notification
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


def url(name, community, *args):
    return reverse(f"communities:{name}", args=[community.slug, *args])


def test_access_needs_show_only_for_active_members(client, community, coordinator, member):
    member.access_needs = "I have epilepsy"
    member.save()
    membership = Membership.objects.get(user=member)
    client.force_login(coordinator)
    assert "epilepsy" in client.get(url("manage_member", community, membership.pk)).content.decode()
    services.leave_community(membership=membership)
    assert (
        "epilepsy"
        not in client.get(url("manage_member", community, membership.pk)).content.decode()
    )


def test_inviting_an_existing_account_reveals_nothing_about_it(client, community, coordinator):
    person = make_person("private@example.org", name="Private Person")
    person.access_needs = "HIV positive"
    person.save()
    client.force_login(coordinator)
    client.post(url("manage_invitations", community), {"email": person.email, "role": "member"})
    assert Invitation.objects.filter(email=person.email).exists()
    page = client.get(url("manage_members", community), {"q": "private"}).content.decode()
    assert "Private Person" not in page and "HIV" not in page


def test_inviting_someone_whose_request_waits_is_answered_next_to_the_field(
    client, community, coordinator, outsider
):
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    services.join_community(
        community=community, user=outsider, perspectives=["carer"], involvement=[]
    )
    client.force_login(coordinator)
    response = client.post(
        url("manage_invitations", community), {"email": outsider.email, "role": "member"}
    )
    assert response.status_code == 200
    assert "Approve their request instead" in response.content.decode()


def test_removing_someone_who_already_left_is_answered_not_a_server_error(
    client, community, coordinator, member
):
    membership = Membership.objects.get(user=member)
    services.leave_community(membership=membership)
    client.force_login(coordinator)
    response = client.post(url("manage_member_remove", community, membership.pk), follow=True)
    assert response.status_code == 200
    assert "Only active members can be removed" in response.content.decode()


def test_withdrawing_an_invitation_does_not_lock_the_person_out(community, coordinator, outsider):
    invitation = services.invite(
        community=community, email=outsider.email, role="member", by=coordinator
    )
    services.revoke_invitation(invitation=invitation)
    membership = services.join_community(
        community=community, user=outsider, perspectives=["patient"], involvement=[]
    )
    assert membership.status == "active"


def test_saving_other_details_does_not_change_the_ground_rules_version(
    client, community, coordinator
):
    community.ground_rules = "Be kind.\nListen."
    community.save()
    client.force_login(coordinator)
    data = {
        "name": community.name, "slug": community.slug, "purpose": community.purpose,
        "description": "New words", "ground_rules": "Be kind.\r\nListen.  ", "join_policy": "open",
        "status": "active", "time_zone": "Europe/London", "listed": "on", "update_promise_days": 30,
    }  # fmt: skip
    client.post(url("manage_edit", community), data)
    community.refresh_from_db()
    assert community.description == "New words"
    assert community.ground_rules_version == 1


def test_a_refused_edit_keeps_the_page_about_this_community(client, community, coordinator):
    other = Community.objects.create(slug="taken", name="Other", purpose="x")
    client.force_login(coordinator)
    response = client.post(url("manage_edit", community), {"name": "Renamed", "slug": other.slug})
    page = response.content.decode()
    assert "Another community already uses this web address." in page
    assert f'href="/c/{community.slug}/"' in page and 'href="/c/taken/"' not in page


def test_the_members_csv_cannot_carry_a_spreadsheet_formula(client, community, coordinator, member):
    member.name = '=HYPERLINK("http://evil.example/","Click")'
    member.save()
    client.force_login(coordinator)
    text = client.get(url("manage_members_csv", community)).getvalue().decode()
    rows = {row[1]: row for row in csv.reader(io.StringIO(text))}
    assert rows[member.email][0].startswith("'=")


def test_plain_text_emails_are_not_html_escaped(
    community, coordinator, mailoutbox, django_capture_on_commit_callbacks
):
    community.purpose = "Fit patients' lives & families"
    community.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.invite(
            community=community,
            email="new@example.org",
            role="member",
            by=coordinator,
            message="We'd love you to join <3",
        )
    body = mailoutbox[0].body
    assert "Fit patients' lives & families" in body and "We'd love you to join <3" in body
    html = mailoutbox[0].alternatives[0][0]
    assert "We&#x27;d love you to join &lt;3" in html


def test_a_partner_other_communities_share_is_changed_by_staff_only(
    client, community, other_community, coordinator, staff
):
    partner = PartnerOrganisation.objects.create(name="Shared charity", kind="charity")
    partner.communities.add(community, other_community)
    client.force_login(coordinator)
    data = {"name": "Renamed by one community", "kind": "charity"}
    client.post(url("manage_partner_edit", community, partner.pk), data)
    partner.refresh_from_db()
    assert partner.name == "Shared charity"
    client.force_login(staff)
    client.post(url("manage_partner_edit", community, partner.pk), data)
    partner.refresh_from_db()
    assert partner.name == "Renamed by one community"


def test_an_archived_community_cannot_be_changed_by_its_coordinators(
    client, community, coordinator, member
):
    invitation = services.invite(
        community=community, email="x@example.org", role="member", by=coordinator
    )
    community.status = Community.Status.ARCHIVED
    community.save()
    client.force_login(coordinator)
    posts = [
        (url("manage_involvement", community), {"name": "New way", "position": 1}),
        (url("manage_partners", community), {"name": "New partner", "kind": "charity"}),
        (url("manage_invitation_resend", community, invitation.pk), {}),
        (url("manage_invitations", community), {"email": "y@example.org", "role": "member"}),
    ]
    for address, data in posts:
        response = client.post(address, data, follow=True)
        assert "archived" in response.content.decode(), address
    assert not community.involvement_options.filter(name="New way").exists()
    assert not community.partners.exists()
    assert Invitation.objects.count() == 1
    invitation.refresh_from_db()
    assert invitation.times_sent == 1


def test_admin_approval_in_an_archived_community_is_a_warning_not_a_server_error(
    client, staff, community, outsider
):
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    membership = services.join_community(
        community=community, user=outsider, perspectives=["carer"], involvement=[]
    )
    Community.objects.filter(pk=community.pk).update(status=Community.Status.ARCHIVED)
    client.force_login(staff)
    response = client.post(
        reverse("admin:communities_membership_changelist"),
        {"action": "approve_requests", "_selected_action": [membership.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "archived" in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == "requested"


def test_withdrawing_a_request_tells_the_coordinators(community, coordinator, outsider):
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    membership = services.join_community(
        community=community, user=outsider, perspectives=["carer"], involvement=[]
    )
    services.leave_community(membership=membership)
    assert Notification.objects.filter(kind="request_withdrawn", recipient=coordinator).exists()


def test_changed_ground_rules_show_on_my_profile_too(client, community, member):
    community.ground_rules = "Be kind."
    community.ground_rules_version = 2
    community.save()
    client.force_login(member)
    assert "the ground rules have changed" in client.get("/me/").content.decode()


def test_the_web_address_help_text_reads_properly(client, community, coordinator):
    client.force_login(coordinator)
    assert "/c/our-community/" in client.get(url("manage_edit", community)).content.decode()
