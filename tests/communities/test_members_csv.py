"""The members CSV is streamed from a fixed number of queries, whatever the community's size,
with the same columns and the same protection against spreadsheet formulas."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from communities.models import Membership, MembershipPerspective
from members.models import User

pytestmark = pytest.mark.django_db


def csv_url(community, **filters):
    return reverse("communities:manage_members_csv", args=[community.slug]), filters


def add_members(community, n, *, prefix="bulk"):
    """n active members, each with two perspectives and the first way of taking part."""
    community.ensure_default_involvement_options()
    option = community.involvement_options.first()
    people = User.objects.bulk_create(
        User(email=f"{prefix}{i}@example.org", name=f"{prefix.title()} {i:04d}") for i in range(n)
    )
    memberships = Membership.objects.bulk_create(
        Membership(community=community, user=person, status="active") for person in people
    )
    MembershipPerspective.objects.bulk_create(
        MembershipPerspective(membership=m, perspective=code)
        for m in memberships
        for code in ("patient", "carer")
    )
    Membership.involvement.through.objects.bulk_create(
        Membership.involvement.through(membership_id=m.pk, involvementoption_id=option.pk)
        for m in memberships
    )
    return memberships


def download(client, community, **filters):
    path, query = csv_url(community, **filters)
    response = client.get(path, query)
    assert response.status_code == 200
    return response


def rows_of(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


@pytest.mark.parametrize("size", [3, 300])
def test_the_members_csv_costs_the_same_queries_at_any_size(
    client, community, coordinator, size, django_assert_num_queries
):
    add_members(community, size)
    client.force_login(coordinator)
    # session, user, community, may they coordinate (their membership), the community's ways
    # of taking part, then every row in one query (perspectives and ways of taking part are
    # gathered per member in SQL, no prefetch per block).
    with django_assert_num_queries(6):
        response = download(client, community)
        assert len(rows_of(response)) == 1 + size + 1  # header, members, the coordinator


def test_the_members_csv_is_streamed_with_every_column(client, community, coordinator):
    [alice, bob] = add_members(community, 2)
    second = community.involvement_options.all()[1]
    bob.involvement.add(second)
    MembershipPerspective.objects.filter(membership=bob).delete()
    MembershipPerspective.objects.create(membership=bob, perspective="staff")
    Membership.objects.filter(pk=alice.pk).update(joined_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    client.force_login(coordinator)
    response = download(client, community)
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bowel-care-members.csv"'
    rows = {row[1]: row for row in rows_of(response)}
    first = community.involvement_options.first().name
    assert rows["bulk0@example.org"] == [
        "Bulk 0000",
        "bulk0@example.org",
        "Member",
        "Active",
        "Carer or family member; Patient or service user",
        first,
        "2026-03-01",
    ]
    # Ways of taking part in the order the community offers them.
    assert rows["bulk1@example.org"][4:6] == ["Other health or care staff", f"{first}; {second}"]
    assert rows["cora@example.org"][2:4] == ["Coordinator", "Active"]


def test_an_erased_member_has_no_name_or_email_in_the_csv(client, community, coordinator):
    [gone] = add_members(community, 1, prefix="gone")
    User.objects.filter(pk=gone.user_id).update(erased_at=datetime(2026, 1, 1, tzinfo=UTC))
    client.force_login(coordinator)
    rows = rows_of(download(client, community))
    assert ["a former member", ""] in [row[:2] for row in rows]
    assert "gone0@example.org" not in response_text(rows)


def response_text(rows):
    return "\n".join(",".join(row) for row in rows)


def test_filters_give_each_member_once(client, community, coordinator):
    add_members(community, 3)
    client.force_login(coordinator)
    option = community.involvement_options.first()
    rows = rows_of(download(client, community, perspective="carer", involvement=option.pk))
    assert [row[0] for row in rows[1:]] == ["Bulk 0000", "Bulk 0001", "Bulk 0002"]
    rows = rows_of(download(client, community, perspective="researcher"))
    assert rows[1:] == []


def test_a_formula_typed_as_a_name_is_still_neutralised(client, community, coordinator):
    [sly] = add_members(community, 1, prefix="sly")
    User.objects.filter(pk=sly.user_id).update(name='=HYPERLINK("http://evil.example/","x")')
    client.force_login(coordinator)
    rows = {row[1]: row for row in rows_of(download(client, community))}
    assert rows["sly0@example.org"][0] == '\'=HYPERLINK("http://evil.example/","x")'
