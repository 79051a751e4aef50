import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services
from communities.access import ArchivedError
from communities.models import Community, Membership
from members.status import StatusError

pytestmark = pytest.mark.django_db


def join_data(community, **extra):
    option = community.involvement_options.first()
    return {
        "perspectives": ["patient", "carer"],
        "involvement": [option.pk],
        "agree": "on",
        **extra,
    }


@pytest.fixture
def open_community(community):
    community.ground_rules = "Be kind."
    community.save()
    community.ensure_default_involvement_options()
    return community


def test_a_person_joins_an_open_community_with_perspectives_and_involvement(
    client, open_community, outsider
):
    client.force_login(outsider)
    response = client.post(
        reverse("communities:join", args=[open_community.slug]), join_data(open_community)
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=outsider, community=open_community)
    assert membership.status == "active" and membership.role == "member"
    assert sorted(membership.perspectives) == ["carer", "patient"]
    assert membership.involvement.count() == 1
    assert membership.rules_version_agreed == open_community.ground_rules_version
    assert membership.joined_at is not None


def test_joining_without_agreeing_keeps_what_was_chosen(client, open_community, outsider):
    client.force_login(outsider)
    data = join_data(open_community)
    del data["agree"]
    response = client.post(reverse("communities:join", args=[open_community.slug]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please agree to the ground rules to join." in page
    assert response.context["form"]["perspectives"].value() == ["patient", "carer"]
    assert not Membership.objects.filter(user=outsider).exists()


def test_joining_with_no_perspective_is_refused_next_to_the_field(client, open_community, outsider):
    client.force_login(outsider)
    data = join_data(open_community, perspectives=[])
    response = client.post(reverse("communities:join", args=[open_community.slug]), data)
    assert "Choose at least one." in response.content.decode()


def test_joining_twice_is_refused_with_a_reason(open_community, member):
    with pytest.raises(services.MembershipError, match="already a member"):
        services.join_community(
            community=open_community, user=member, perspectives=["patient"], involvement=[]
        )


def test_approval_community_takes_a_request_and_tells_the_coordinators(
    client, open_community, coordinator, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    open_community.join_policy = Community.JoinPolicy.APPROVAL
    open_community.save()
    client.force_login(outsider)
    data = join_data(open_community, message="I care for my son.")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("communities:join", args=[open_community.slug]), data)
    membership = Membership.objects.get(user=outsider)
    assert membership.status == "requested"
    assert membership.request_message == "I care for my son."
    assert [m.to for m in mailoutbox] == [[coordinator.email]]
    assert reverse("communities:manage_requests", args=[open_community.slug]) in mailoutbox[0].body


def test_invitation_only_community_refuses_uninvited_joiners(client, open_community, outsider):
    open_community.join_policy = Community.JoinPolicy.INVITATION
    open_community.save()
    client.force_login(outsider)
    response = client.post(
        reverse("communities:join", args=[open_community.slug]), join_data(open_community)
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(user=outsider).exists()
    page = client.get(open_community.get_absolute_url()).content.decode()
    assert "by invitation only" in page


def test_archived_community_is_read_only(client, open_community, outsider, member):
    open_community.status = Community.Status.ARCHIVED
    open_community.save()
    client.force_login(outsider)
    client.post(reverse("communities:join", args=[open_community.slug]), join_data(open_community))
    assert not Membership.objects.filter(user=outsider).exists()
    membership = Membership.objects.get(user=member)
    with pytest.raises(ArchivedError, match="archived"):
        services.leave_community(membership=membership)


def test_a_member_leaves_and_can_join_again(client, open_community, member):
    client.force_login(member)
    client.post(reverse("communities:leave", args=[open_community.slug]))
    membership = Membership.objects.get(user=member)
    assert membership.status == "left"
    client.post(reverse("communities:join", args=[open_community.slug]), join_data(open_community))
    membership.refresh_from_db()
    assert membership.status == "active"


def test_a_removed_person_cannot_rejoin_on_their_own(open_community, member, coordinator):
    membership = Membership.objects.get(user=member)
    services.remove_member(membership=membership, by=coordinator)
    with pytest.raises(services.MembershipError, match="removed you"):
        services.join_community(
            community=open_community, user=member, perspectives=["patient"], involvement=[]
        )


def test_the_last_coordinator_cannot_leave(client, open_community, coordinator):
    client.force_login(coordinator)
    response = client.post(reverse("communities:leave", args=[open_community.slug]), follow=True)
    assert "only coordinator" in response.content.decode()
    assert Membership.objects.get(user=coordinator).status == "active"


def test_changed_ground_rules_ask_members_to_agree_again(
    client, open_community, member, coordinator
):
    client.force_login(coordinator)
    form = client.get(reverse("communities:manage_edit", args=[open_community.slug])).context[
        "form"
    ]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["ground_rules"] = "Be kind. Keep what people share private."
    data["listed"] = "on"
    client.post(reverse("communities:manage_edit", args=[open_community.slug]), data)
    open_community.refresh_from_db()
    assert open_community.ground_rules_version == 2

    client.force_login(member)
    page = client.get(open_community.get_absolute_url()).content.decode()
    assert "Our ground rules have changed" in page
    client.post(reverse("communities:agree_rules", args=[open_community.slug]))
    page = client.get(open_community.get_absolute_url()).content.decode()
    assert "Our ground rules have changed" not in page
    assert Membership.objects.get(user=member).rules_version_agreed == 2


def test_a_member_changes_how_they_take_part(client, open_community, member):
    client.force_login(member)
    # Changed ground rules come first: nothing else waits for them.
    response = client.get(reverse("communities:choices", args=[open_community.slug]))
    assert response.status_code == 302 and response["Location"] == open_community.get_absolute_url()
    services.agree_to_ground_rules(membership=Membership.objects.get(user=member))
    options = list(open_community.involvement_options.all())
    client.post(
        reverse("communities:choices", args=[open_community.slug]),
        {"perspectives": ["researcher"], "involvement": [options[3].pk, options[4].pk]},
    )
    membership = Membership.objects.get(user=member)
    assert membership.perspectives == ["researcher"]
    assert set(membership.involvement.all()) == {options[3], options[4]}


def test_status_transitions_are_checked(member, community):
    membership = Membership.objects.get(user=member)
    assert membership.set_status("left", by=member) is True
    with pytest.raises(StatusError, match="status is “Left”"):
        membership.set_status("declined", by=member)


OFFER = "Help us see whose voices are missing"


def test_equality_monitoring_is_offered_after_joining_until_not_now(
    client, open_community, outsider
):
    client.force_login(outsider)
    response = client.post(
        reverse("communities:join", args=[open_community.slug]),
        join_data(open_community),
        follow=True,
    )
    assert OFFER in response.content.decode()
    client.post(reverse("communities:dismiss_equality_offer", args=[open_community.slug]))
    assert OFFER not in client.get(open_community.get_absolute_url()).content.decode()


def test_equality_monitoring_is_offered_after_approval_too(
    client, open_community, outsider, coordinator
):
    open_community.join_policy = Community.JoinPolicy.APPROVAL
    open_community.save()
    membership = services.join_community(
        community=open_community, user=outsider, perspectives=["carer"], involvement=[]
    )
    client.force_login(outsider)
    assert OFFER not in client.get(open_community.get_absolute_url()).content.decode()
    services.decide_request(membership=membership, approve=True, by=coordinator)
    assert OFFER in client.get(open_community.get_absolute_url()).content.decode()


def test_no_offer_to_someone_who_has_answered(client, open_community, outsider):
    from members.models import EqualityMonitoring

    EqualityMonitoring.objects.create(user=outsider, consented_at=timezone.now())
    client.force_login(outsider)
    response = client.post(
        reverse("communities:join", args=[open_community.slug]),
        join_data(open_community),
        follow=True,
    )
    assert OFFER not in response.content.decode()


def test_opening_join_with_a_request_waiting_says_so(client, open_community, outsider):
    open_community.join_policy = Community.JoinPolicy.APPROVAL
    open_community.save()
    services.join_community(
        community=open_community, user=outsider, perspectives=["carer"], involvement=[]
    )
    client.force_login(outsider)
    response = client.get(reverse("communities:join", args=[open_community.slug]), follow=True)
    assert "already asked to join" in response.content.decode()


def test_pressing_join_twice_at_once_is_answered_not_a_server_error(
    open_community, outsider, monkeypatch
):
    # The second press finds no row (the first is not committed yet) and then collides with it.
    Membership.objects.create(community=open_community, user=outsider, status="active")
    real_filter = Membership.objects.select_for_update

    class NoRowYet:
        def filter(self, **kwargs):
            return Membership.objects.none()

    monkeypatch.setattr(Membership.objects, "select_for_update", lambda: NoRowYet())
    with pytest.raises(services.MembershipError, match="already joined or asked"):
        services.join_community(
            community=open_community, user=outsider, perspectives=["patient"], involvement=[]
        )
    assert real_filter
