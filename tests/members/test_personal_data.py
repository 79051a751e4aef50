import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from importlib import import_module

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from communities.models import Membership
from members import personal_data
from members.models import EqualityMonitoring, User
from members.personal_data import Section, export_for, register
from members.services import erase_person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

DATA = "/me/data/"
DOWNLOAD = "/me/data/download/"
DELETE = "/me/data/delete/"


@pytest.fixture
def registry():
    """The registry as it stands; sections a test adds are removed after it."""
    saved = dict(personal_data._sections)
    yield personal_data._sections
    personal_data._sections.clear()
    personal_data._sections.update(saved)


def _answer_equality(user, **answers):
    return EqualityMonitoring.objects.create(
        user=user, consented_at=timezone.now(), **{"postcode_district": "S10", **answers}
    )


def _download(client) -> zipfile.ZipFile:
    response = client.post(DOWNLOAD)
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


# --- The registry ---------------------------------------------------------------------------


def test_members_registers_its_own_sections():
    names = [section.name for section in personal_data.sections()]
    assert names[:3] == ["profile", "email_addresses", "equality"]


def test_another_app_can_register_a_section_that_is_exported_and_erased(registry, member):
    erased = []
    register(
        Section(
            name="test_notes",
            export=lambda user: [{"note": f"note of {user.pk}"}],
            erase=erased.append,
        )
    )
    assert export_for(member)["test_notes"] == [{"note": f"note of {member.pk}"}]
    erase_person(user=member)
    assert erased == [member]


def test_registering_the_same_section_twice_is_harmless_but_a_clash_is_refused(registry):
    section = Section(name="test_twice", export=lambda user: [])
    register(section)
    register(section)  # an app's ready() may run twice
    with pytest.raises(ImproperlyConfigured):
        register(Section(name="test_twice", export=lambda user: [{"other": 1}]))


def test_a_section_is_frozen():
    section = Section(name="frozen", export=lambda user: [])
    with pytest.raises(AttributeError):
        section.name = "thawed"


def test_the_registry_can_be_imported_before_django_is_set_up():
    # Another app imports it from its apps.py, before models can be loaded.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = (
        "from members.personal_data import Section, register;"
        "register(Section(name='early', export=lambda user: []))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# --- What is exported -----------------------------------------------------------------------


def test_export_holds_the_profile_without_the_password(member):
    member.pronouns = "he/him"
    member.access_needs = "Large print"
    member.save()
    data = export_for(member)
    assert {"profile", "email_addresses", "equality"} <= set(data)
    [profile] = data["profile"]
    assert profile["email"] == member.email
    assert profile["preferred_name"] == "Michael"
    assert profile["access_needs"] == "Large print"
    assert "password" not in json.dumps(data, default=str)
    assert member.password not in json.dumps(data, default=str)
    assert data["email_addresses"] == [{"email": member.email, "verified": True, "primary": True}]
    assert data["equality"] == []


def test_export_holds_the_equality_answers_in_words(member):
    _answer_equality(member, ethnic_group="asian_indian", age_band="75+")
    [answers] = export_for(member)["equality"]
    assert answers["ethnic_group"] == "Asian or Asian British: Indian"
    assert answers["age"] == "75 or over"
    assert answers["postcode_district"] == "S10"


# --- /me/data/ ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("get", DATA), ("post", DOWNLOAD), ("post", DELETE)])
def test_anonymous_people_are_sent_to_sign_in(client, db, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("path", [DOWNLOAD, DELETE])
def test_download_and_delete_are_post_only(client, member, path):
    client.force_login(member)
    assert client.get(path).status_code == 405
    assert User.objects.get(pk=member.pk).erased_at is None


def test_my_data_page_explains_what_is_held_and_offers_both(client, member):
    client.force_login(member)
    response = client.get(DATA)
    page = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "This is what Convene holds about you" in page
    assert f'action="{DOWNLOAD}"' in page and f'action="{DELETE}"' in page
    assert 'autocomplete="current-password"' in page


def test_my_data_page_query_count(client, member, django_assert_num_queries):
    client.force_login(member)
    # 1: the session; 2: the signed-in person. What is held is described, not counted.
    with django_assert_num_queries(2):
        response = client.get(DATA)
    assert response.status_code == 200


def test_download_is_a_zip_of_json_and_a_csv_per_section(client, member):
    _answer_equality(member, sex="female")
    client.force_login(member)
    response = client.post(DOWNLOAD)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="convene-my-data.zip"'
    assert "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    sections = [section.name for section in personal_data.sections()]
    assert names == {"data.json"} | {f"{name}.csv" for name in sections}
    data = json.loads(archive.read("data.json"))
    assert set(data) == set(sections)
    assert data["profile"][0]["email"] == member.email
    assert data["equality"][0]["sex"] == "Female"
    rows = list(csv.DictReader(io.StringIO(archive.read("profile.csv").decode("utf-8-sig"))))
    assert rows[0]["email"] == member.email
    assert rows[0]["news_delivery"] == "weekly"


@pytest.mark.parametrize("persona", ["member", "coordinator", "partner", "outsider", "staff"])
def test_each_person_downloads_only_their_own_data(client, request, persona, member, outsider):
    me = request.getfixturevalue(persona)
    others = [p for p in (member, outsider) if p != me]
    for other in others:
        other.access_needs = f"Needs of {other.email}"
        other.save()
        _answer_equality(other, postcode_district="ZE2")
    client.force_login(me)
    archive = _download(client)
    everything = "".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    assert me.email in everything
    for other in others:
        assert other.email not in everything
        assert "ZE2" not in everything
    assert other.email not in client.get(DATA).content.decode()


def test_spreadsheet_formulas_typed_by_a_person_open_as_text(client, member):
    member.access_needs = "=HYPERLINK(1)"
    member.save()
    client.force_login(member)
    text = _download(client).read("profile.csv").decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["access_needs"] == "'=HYPERLINK(1)"


# --- Erasure --------------------------------------------------------------------------------


def _session_for(user) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    return store.session_key


def test_erase_person_anonymises_the_row_and_removes_what_identifies_them(member, outsider):
    member.pronouns = "he/him"
    member.access_needs = "Ramps"
    member.save()
    _answer_equality(member)
    _answer_equality(outsider)
    their_session, other_session = _session_for(member), _session_for(outsider)

    erase_person(user=member)

    member.refresh_from_db()
    assert member.email == f"former-member-{member.pk}@invalid.invalid"
    assert (member.name, member.pronouns, member.access_needs) == ("", "", "")
    assert not member.is_active and not member.has_usable_password()
    assert member.erased_at is not None
    assert {member.delivery_for(g) for g in ("reminders", "updates", "news", "alerts")} == {"never"}
    assert str(member) == "a former member"
    assert not EmailAddress.objects.filter(user=member).exists()
    assert not EqualityMonitoring.objects.filter(user=member).exists()
    assert not Session.objects.filter(session_key=their_session).exists()
    # Other people keep everything.
    assert EmailAddress.objects.filter(user=outsider).exists()
    assert EqualityMonitoring.objects.filter(user=outsider).exists()
    assert Session.objects.filter(session_key=other_session).exists()


def test_what_they_gave_still_points_at_the_erased_row(member, community):
    erase_person(user=member)
    membership = Membership.objects.get(community=community, user=member)
    assert str(membership.user) == "a former member"


def test_erasure_is_all_or_nothing(registry, member):
    def fail(user):
        raise RuntimeError("a section could not erase")

    register(Section(name="test_failing", export=lambda user: [], erase=fail))
    _answer_equality(member)
    with pytest.raises(RuntimeError):
        erase_person(user=member)
    member.refresh_from_db()
    assert member.email == "michael@example.org" and member.erased_at is None
    assert EqualityMonitoring.objects.filter(user=member).exists()


def test_erase_person_takes_keywords_only(member):
    with pytest.raises(TypeError):
        erase_person(member)


# --- Deleting my account --------------------------------------------------------------------


def test_deleting_my_account_erases_me_signs_me_out_and_lands_on_home(client, member):
    client.force_login(member)
    response = client.post(DELETE, {"password": PASSWORD, "confirm": "on"}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "Your account is deleted." in response.content.decode()
    assert "_auth_user_id" not in client.session
    member.refresh_from_db()
    assert member.erased_at is not None
    # The old email address and password no longer sign in.
    login = client.post(
        reverse("account_login"), {"login": "michael@example.org", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"password": "not-my-password-at-all", "confirm": "on"},
            "password",
            "not your current password",
        ),
        ({"password": "", "confirm": "on"}, "password", "This field is required."),
        ({"password": PASSWORD}, "confirm", "Tick this box to confirm"),
    ],
)
def test_deleting_needs_my_password_and_the_tick(client, member, data, field, message):
    client.force_login(member)
    response = client.post(DELETE, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in page
    assert message in page
    assert "no-store" in response["Cache-Control"]
    member.refresh_from_db()
    assert member.erased_at is None and member.is_active
    assert client.session["_auth_user_id"] == str(member.pk)
