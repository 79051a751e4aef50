"""A member is named by their email address wherever a coordinator picks one person (a
project's team, a round's scorers, a claim from paper, a paid role): only an active member
of this community is accepted, however the address is typed."""

import pytest
from django import forms

from communities.forms import MemberField
from communities.models import Membership
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


class Pick(forms.Form):
    person = MemberField(label="Person")

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].community = community


def picked(community, typed):
    form = Pick({"person": typed}, community=community)
    return form.cleaned_data["person"] if form.is_valid() else form.errors["person"][0]


def test_an_active_member_is_found_however_their_address_is_typed(community, member):
    assert picked(community, member.email) == member
    assert picked(community, f"  {member.email.upper()} ") == member


def test_anyone_else_is_refused_with_the_address_they_typed(
    community, other_community, other_coordinator, outsider
):
    left = make_person("left@example.org")
    Membership.objects.create(community=community, user=left, status=Membership.Status.LEFT)
    for person in (outsider, other_coordinator, left):
        assert picked(community, person.email) == (
            f"No active member of this community has the email address {person.email}."
        )
    assert picked(community, "not an address") == "Enter a valid email address."
    assert picked(community, "") == "This field is required."


def test_a_page_with_a_picker_does_not_grow_with_the_members(community, coordinator):
    html = Pick(community=community).as_div()
    assert "<select" not in html and 'type="email"' in html
