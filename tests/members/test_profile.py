import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import User

pytestmark = pytest.mark.django_db

PROFILE = "/me/"


def _profile_data(**overrides) -> dict:
    data = {
        "name": "Mick",
        "pronouns": "he/him",
        "access_needs": "A hearing loop, please.",
        "language": "en-gb",
        "reminders_delivery": "immediately",
        "updates_delivery": "daily",
        "news_delivery": "never",
        "alerts_delivery": "weekly",
    }
    return {**data, **overrides}


# --- The person's name as others see it -----------------------------------------------------


def test_display_name_is_the_preferred_name_or_the_start_of_the_email():
    assert User(email="nia@example.org", name="Nia O").display_name == "Nia O"
    assert User(email="nia.okafor@example.org").display_name == "nia.okafor"
    assert str(User(email="nia@example.org", name="Nia O")) == "Nia O"


def test_an_erased_person_shows_as_a_former_member():
    erased = User(email="former-member-7@invalid.invalid", name="", erased_at=timezone.now())
    assert erased.display_name == "a former member"
    assert str(erased) == "a former member"


def test_communication_preferences_are_on_by_default(member):
    assert member.reminders_delivery == member.updates_delivery == "immediately"
    assert member.alerts_delivery == "immediately"
    assert member.news_delivery == "weekly"
    assert member.language == "en-gb"


# --- /me/ -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_people_are_sent_to_sign_in(client, db, method):
    response = getattr(client, method)(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", ["member", "coordinator", "partner", "outsider", "staff"])
def test_each_person_sees_only_their_own_profile(client, request, persona, member, outsider):
    me = request.getfixturevalue(persona)
    others = [p for p in (member, outsider) if p != me]
    for other in others:
        other.access_needs = f"Large print for {other.name}"
        other.save()
    client.force_login(me)
    page = client.get(PROFILE).content.decode()
    assert me.email in page
    for other in others:
        assert other.email not in page
        assert other.access_needs not in page


def test_profile_page_links_to_equality_data_email_and_password(client, member):
    client.force_login(member)
    page = client.get(PROFILE).content.decode()
    for name in ("members:equality", "members:data", "account_email", "account_change_password"):
        assert f'href="{reverse(name)}"' in page
    assert "My communities" in page
    assert "Bowel care together" in page


def test_profile_page_says_when_someone_has_no_communities(client, outsider):
    client.force_login(outsider)
    assert "You have not joined a community yet." in client.get(PROFILE).content.decode()


def test_profile_page_is_never_cached(client, member):
    client.force_login(member)
    assert "no-store" in client.get(PROFILE)["Cache-Control"]


def test_profile_page_query_count(client, member, django_assert_num_queries):
    client.force_login(member)
    # 1: the session; 2: the signed-in person (the form edits that same row); 3: their
    # communities, with each community joined in; 4: prioritisation rounds waiting for their
    # scores.
    with django_assert_num_queries(4):
        response = client.get(PROFILE)
    assert response.status_code == 200


def test_saving_the_profile_keeps_the_changes_and_says_so(client, member):
    client.force_login(member)
    response = client.post(PROFILE, _profile_data(), follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert "Your profile is saved." in response.content.decode()
    member.refresh_from_db()
    assert member.name == "Mick"
    assert member.pronouns == "he/him"
    assert member.access_needs == "A hearing loop, please."
    assert member.reminders_delivery == "immediately"
    assert member.updates_delivery == "daily"
    assert member.news_delivery == "never"
    assert member.alerts_delivery == "weekly"
    # The email address is changed through allauth, never here.
    assert member.email == "michael@example.org"


def test_the_profile_form_cannot_change_other_fields(client, member):
    client.force_login(member)
    client.post(PROFILE, _profile_data(email="taken@example.org", is_staff="on"))
    member.refresh_from_db()
    assert member.email == "michael@example.org"
    assert not member.is_staff


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "N" * 151, "at most 150 characters"),
        ("pronouns", "p" * 41, "at most 40 characters"),
        ("updates_delivery", "hourly", "Select a valid choice"),
        ("language", "xx", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_kept(client, member, field, value, message):
    client.force_login(member)
    response = client.post(PROFILE, _profile_data(**{field: value, "access_needs": "Ramps"}))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in page
    assert message in page
    assert "Ramps" in page  # what else was typed is kept
    member.refresh_from_db()
    assert member.access_needs == ""


def test_typed_text_is_escaped(client, member):
    client.force_login(member)
    client.post(PROFILE, _profile_data(access_needs="<script>alert(1)</script>"))
    page = client.get(PROFILE).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


# --- The admin ------------------------------------------------------------------------------


def test_staff_see_the_new_fields_and_filter_erased_people(client, staff, member):
    User.objects.filter(pk=member.pk).update(erased_at=timezone.now())
    client.force_login(staff)
    changelist = client.get("/admin/members/user/?erased=yes").content.decode()
    assert member.email in changelist
    assert staff.email not in changelist
    not_erased = client.get("/admin/members/user/?erased=no").content.decode()
    assert staff.email in not_erased and member.email not in not_erased
    change = client.get(f"/admin/members/user/{member.pk}/change/").content.decode()
    for field in ("pronouns", "access_needs", "updates_delivery", "contact_channel"):
        assert f'name="{field}"' in change
