import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services
from communities.models import Community, Membership, MembershipPerspective
from tests.conftest import make_community, make_person
from tests.engagement.test_sessions import make_session

pytestmark = pytest.mark.django_db


def url(name, community, *args):
    return reverse(f"communities:{name}", args=[community.slug, *args])


def add_people(community, count, *, status="active", perspective="patient"):
    option = community.involvement_options.first()
    for i in range(count):
        person = make_person(f"person{i}-{status}@example.org", name=f"Person {i}")
        m = Membership.objects.create(community=community, user=person, status=status)
        MembershipPerspective.objects.create(membership=m, perspective=perspective)
        m.involvement.add(option)


@pytest.fixture
def busy_community(community, coordinator, member):
    community.ensure_default_involvement_options()
    add_people(community, 3)
    return community


def test_members_list_filters_by_role_status_perspective_and_involvement(
    client, busy_community, coordinator, member
):
    client.force_login(coordinator)
    add_people(busy_community, 2, status="left", perspective="researcher")
    page = client.get(url("manage_members", busy_community), {"status": "left"})
    assert page.context["page"].paginator.count == 2
    page = client.get(url("manage_members", busy_community), {"role": "coordinator"})
    assert [m.user for m in page.context["page"]] == [coordinator]
    page = client.get(url("manage_members", busy_community), {"perspective": "researcher"})
    assert page.context["page"].paginator.count == 2
    option = busy_community.involvement_options.first()
    page = client.get(url("manage_members", busy_community), {"involvement": option.pk})
    assert page.context["page"].paginator.count == 5


def test_members_list_searches_names_and_emails(client, busy_community, coordinator, member):
    client.force_login(coordinator)
    page = client.get(url("manage_members", busy_community), {"q": "michael"})
    assert [m.user for m in page.context["page"]] == [member]
    page = client.get(url("manage_members", busy_community), {"q": "person1-active@"})
    assert page.context["page"].paginator.count == 1


@pytest.mark.parametrize("extra", [3, 60])
def test_members_list_query_count_does_not_grow(
    client, community, coordinator, django_assert_num_queries, extra
):
    community.ensure_default_involvement_options()
    add_people(community, extra)
    client.force_login(coordinator)
    # session, user, community, coordinator check, the revisions the page is kept under,
    # involvement options for the filter, count, page of memberships with users, their
    # perspectives, their involvement.
    with django_assert_num_queries(10):
        response = client.get(url("manage_members", community))
    assert response.status_code == 200
    # Then kept: the same page again reads the revisions and the filter's options only.
    with django_assert_num_queries(6):
        again = client.get(url("manage_members", community))
    assert again.content.decode().count("<tr>") == response.content.decode().count("<tr>")


def test_a_kept_members_list_shows_every_change_to_what_it_lists(
    client, busy_community, coordinator, member
):
    """The list is kept per revision: each kind of change it shows is a new revision."""
    client.force_login(coordinator)

    def listed(**filters):
        return client.get(url("manage_members", busy_community), filters).content.decode()

    assert "Michael" in listed()
    membership = Membership.objects.get(community=busy_community, user=member)
    member.name = "Michaela Renamed"
    member.save()
    assert "Michaela Renamed" in listed()
    nameless = make_person("no-name-yet@example.org", name="")
    Membership.objects.create(community=busy_community, user=nameless, status="active")
    assert "no-name-yet" in listed()
    nameless.email = "a-new-address@example.org"
    nameless.save()
    assert "a-new-address" in listed()
    option = busy_community.involvement_options.first()
    option.name = "Coffee mornings"
    option.save()
    assert "Coffee mornings" in listed()
    assert "Nobody matches" in listed(perspective="carer")
    # Choices are written in bulk, which sends no signals of its own.
    services.update_choices(membership=membership, perspectives=["carer"], involvement=[])
    assert "Michaela Renamed" in listed(perspective="carer")
    MembershipPerspective.objects.filter(membership=membership).delete()
    assert "Nobody matches" in listed(perspective="carer")


@pytest.mark.parametrize("persona", ["member", "coordinator"])
def test_community_page_query_count_is_fixed(
    client, busy_community, persona, request, django_assert_num_queries
):
    client.force_login(request.getfixturevalue(persona))
    for days in (1, 2, 3):  # the next sessions, each with a link to its page
        make_session(busy_community, days=days, title=f"Coming up in {days} days")
    # session, user, community, the person's membership (which also says whether they
    # coordinate), the revisions of every kept part (one query), partners, the "you said,
    # we did" panel (ideas counted, answered ideas counted, the latest updates), the next
    # sessions; what is there for this person: surveys open to them, rounds waiting for
    # their scores.
    with django_assert_num_queries(12):
        response = client.get(busy_community.get_absolute_url())
    assert response.status_code == 200
    # Then the panel's figures and updates, the sessions and the surveys are kept.
    with django_assert_num_queries(7):
        again = client.get(busy_community.get_absolute_url())
    for shown in (response, again):
        assert shown.content.decode().count("Coming up in") == 3


def test_members_list_is_paginated(client, community, coordinator):
    community.ensure_default_involvement_options()
    add_people(community, 30)
    client.force_login(coordinator)
    first = client.get(url("manage_members", community))
    assert len(first.context["page"].object_list) == 25
    second = client.get(url("manage_members", community), {"page": 2, "status": "active"})
    assert len(second.context["page"].object_list) == 6


def test_members_csv_has_no_special_category_data(client, busy_community, coordinator, member):
    member.access_needs = "I use a wheelchair"
    member.save()
    client.force_login(coordinator)
    response = client.get(url("manage_members_csv", busy_community))
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    rows = list(csv.reader(io.StringIO(text.decode())))
    assert rows[0] == ["name", "email", "role", "status", "perspectives", "involvement", "joined"]
    assert len(rows) == 1 + 5
    assert "wheelchair" not in text.decode()
    assert any(row[1] == member.email for row in rows)


def test_coordinator_sees_access_needs_on_the_member_page(
    client, busy_community, coordinator, member
):
    member.access_needs = "Large print, please"
    member.save()
    client.force_login(coordinator)
    membership = Membership.objects.get(user=member)
    page = client.get(url("manage_member", busy_community, membership.pk))
    assert "Large print, please" in page.content.decode()
    assert page["Cache-Control"] and "no-store" in page["Cache-Control"]


def test_coordinator_changes_a_role_and_removes_a_member(
    client, busy_community, coordinator, member
):
    client.force_login(coordinator)
    membership = Membership.objects.get(user=member)
    client.post(url("manage_member", busy_community, membership.pk), {"role": "partner"})
    membership.refresh_from_db()
    assert membership.role == "partner"
    client.post(url("manage_member_remove", busy_community, membership.pk))
    membership.refresh_from_db()
    assert membership.status == "removed"


def test_the_last_coordinator_cannot_be_demoted_or_removed(client, busy_community, coordinator):
    client.force_login(coordinator)
    own = Membership.objects.get(user=coordinator)
    response = client.post(
        url("manage_member", busy_community, own.pk), {"role": "member"}, follow=True
    )
    assert "only coordinator" in response.content.decode()
    response = client.post(url("manage_member_remove", busy_community, own.pk), follow=True)
    assert "only coordinator" in response.content.decode()
    own.refresh_from_db()
    assert own.role == "coordinator" and own.status == "active"


def test_coordinator_approves_and_declines_requests_and_people_are_emailed(
    client, busy_community, coordinator, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    busy_community.join_policy = Community.JoinPolicy.APPROVAL
    busy_community.save()
    other = make_person("second@example.org")
    for person in (outsider, other):
        services.join_community(
            community=busy_community, user=person, perspectives=["carer"], involvement=[]
        )
    client.force_login(coordinator)
    assert client.get(url("manage_requests", busy_community)).context["page"].paginator.count == 2
    first, second = Membership.objects.filter(status="requested").order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("manage_decide", busy_community, first.pk), {"decision": "approve"})
        client.post(
            url("manage_decide", busy_community, second.pk),
            {"decision": "decline", "message": "We are full this year."},
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "active" and second.status == "declined"
    assert second.decision_message == "We are full this year."
    assert [m.to[0] for m in mailoutbox] == [outsider.email, other.email]
    assert "approved" in mailoutbox[0].body
    assert "We are full this year." in mailoutbox[1].body
    response = client.post(
        url("manage_decide", busy_community, first.pk), {"decision": "decline"}, follow=True
    )
    assert "already been answered" in response.content.decode()


def test_edit_refuses_a_duplicate_address_and_an_empty_purpose_keeping_the_input(
    client, community, coordinator
):
    make_community("taken-address")
    client.force_login(coordinator)
    data = {
        "name": "New name typed",
        "slug": "taken-address",
        "purpose": "",
        "join_policy": "open",
        "status": "active",
        "time_zone": "Mars/Base",
    }
    response = client.post(url("manage_edit", community), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Another community already uses this web address." in page
    assert "Say what this community is for." in page
    assert "is not a time zone we know" in page
    assert 'value="New name typed"' in page
    community.refresh_from_db()
    assert community.name != "New name typed"


def test_involvement_options_are_added_and_renamed_without_duplicates(
    client, busy_community, coordinator
):
    client.force_login(coordinator)
    client.post(
        url("manage_involvement", busy_community),
        {
            "name": "Reading group",
            "description": "Read papers together",
            "position": 9,
            "is_active": "on",
        },
    )
    assert busy_community.involvement_options.filter(name="Reading group").exists()
    response = client.post(
        url("manage_involvement", busy_community),
        {"name": "Reading group", "position": 10, "is_active": "on"},
    )
    assert "already offers a way to take part with this name" in response.content.decode()
    assert busy_community.involvement_options.filter(name="Reading group").count() == 1


def test_partners_are_added_edited_and_unlinked(client, busy_community, coordinator):
    client.force_login(coordinator)
    client.post(
        url("manage_partners", busy_community),
        {"name": "Sheffield Carers Centre", "kind": "charity", "website": "carers.example.org"},
    )
    partner = busy_community.partners.get()
    assert partner.website == "https://carers.example.org"
    page = client.get(busy_community.get_absolute_url()).content.decode()
    assert "Sheffield Carers Centre" in page
    client.post(url("manage_partner_unlink", busy_community, partner.pk))
    assert not busy_community.partners.exists()


def test_dashboard_counts_what_needs_doing(client, busy_community, coordinator, outsider):
    busy_community.join_policy = Community.JoinPolicy.APPROVAL
    busy_community.save()
    services.join_community(
        community=busy_community, user=outsider, perspectives=["carer"], involvement=[]
    )
    client.force_login(coordinator)
    response = client.get(url("manage_dashboard", busy_community))
    assert response.context["counts"]["requested"] == 1
    assert response.context["counts"]["active"] == 5


def test_the_kept_management_menu_is_drawn_for_each_role_and_page(
    client, community, coordinator, partner
):
    """The menu is kept rendered per community, page, role and language: a partner never
    gets the coordinator's menu, and the current page is marked on each page."""
    sessions = reverse("engagement:manage_sessions", args=[community.slug])
    client.force_login(coordinator)
    menu = client.get(sessions).content.decode().split('class="manage-nav"')[1].split("</nav>")[0]
    assert "Payments" in menu and 'aria-current="page">Sessions' in menu
    dashboard = client.get(url("manage_dashboard", community)).content.decode()
    assert 'aria-current="page">Dashboard' in dashboard
    assert 'aria-current="page">Sessions' not in dashboard
    client.force_login(partner)
    menu = client.get(sessions).content.decode().split('class="manage-nav"')[1].split("</nav>")[0]
    assert 'aria-current="page">Sessions' in menu
    assert "Payments" not in menu and "Dashboard" not in menu


def test_the_dashboard_counts_of_people_follow_every_change_and_the_clock(
    client, community, coordinator, monkeypatch
):
    """The counts are kept between visits, yet a request to join, one withdrawn or an
    invitation shows at once, and an invitation stops counting as pending when it expires."""
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    client.force_login(coordinator)

    def counts():
        return client.get(url("manage_dashboard", community)).context["counts"]

    before = counts()
    asker = make_person("asker@example.org")
    services.join_community(community=community, user=asker, perspectives=[], involvement=[])
    assert counts()["requested"] == before["requested"] + 1
    invitation = services.invite(
        community=community, email="guest@example.org", role="member", by=coordinator
    )
    assert counts()["pending_invitations"] == before["pending_invitations"] + 1
    Membership.objects.get(community=community, user=asker).delete()
    assert counts()["requested"] == before["requested"]
    # Nothing written: the invitation's time runs out.
    later = invitation.expires_at + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    client.force_login(coordinator)  # a sign-in that has not expired by then
    assert counts()["pending_invitations"] == before["pending_invitations"]
