import logging

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from members.models import (
    AGE_BAND_CHOICES,
    ETHNIC_GROUP_CHOICES,
    PREFER_NOT_TO_SAY,
    EqualityMonitoring,
)
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

EQUALITY = "/me/equality/"
WITHDRAW = "/me/equality/withdraw/"


def _answers(**overrides) -> dict:
    answers = {
        "age_band": "35-44",
        "ethnic_group": "asian_indian",
        "sex": "female",
        "gender_same_as_birth": "yes",
        "disability": "no",
        "postcode_district": "S10",
        "consent": "on",
    }
    return {**answers, **overrides}


def _give_answers(user, **answers) -> EqualityMonitoring:
    return EqualityMonitoring.objects.create(user=user, consented_at=timezone.now(), **answers)


# --- Who can reach the pages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("get", EQUALITY), ("post", EQUALITY), ("post", WITHDRAW)]
)
def test_anonymous_people_are_sent_to_sign_in(client, db, method, path):
    response = getattr(client, method)(path, _answers() if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not EqualityMonitoring.objects.exists()


def test_withdrawing_is_post_only(client, member):
    _give_answers(member)
    client.force_login(member)
    assert client.get(WITHDRAW).status_code == 405
    assert EqualityMonitoring.objects.filter(user=member).exists()


@pytest.mark.parametrize("persona", ["member", "coordinator", "partner", "outsider", "staff"])
def test_each_person_sees_only_their_own_answers(client, request, persona, member, outsider):
    me = request.getfixturevalue(persona)
    others = [p for p in (member, outsider) if p != me]
    for other in others:
        _give_answers(other, postcode_district="ZE2", ethnic_group="white_roma")
    client.force_login(me)
    page = client.get(EQUALITY).content.decode()
    assert 'value="ZE2"' not in page
    assert 'value="white_roma" selected' not in page
    assert "Withdraw your consent" not in page  # nothing of theirs to withdraw


def test_the_pages_are_never_cached(client, member):
    client.force_login(member)
    assert "no-store" in client.get(EQUALITY)["Cache-Control"]
    assert "no-store" in client.post(EQUALITY, _answers(consent=""))["Cache-Control"]
    assert "no-store" in client.post(WITHDRAW)["Cache-Control"]


@pytest.mark.parametrize("answered", [False, True])
def test_equality_page_query_count(client, member, django_assert_num_queries, answered):
    if answered:
        _give_answers(member)
    client.force_login(member)
    # 1: the session; 2: the signed-in person; 3: their answers, if any.
    with django_assert_num_queries(3):
        response = client.get(EQUALITY)
    assert response.status_code == 200


# --- The questions --------------------------------------------------------------------------


def _flat(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from (option for option, _label in label)
        else:
            yield value


def test_every_question_offers_prefer_not_to_say_and_starts_there(client, member):
    client.force_login(member)
    form = client.get(EQUALITY).context["form"]
    for name in ("age_band", "ethnic_group", "sex", "gender_same_as_birth", "disability"):
        assert PREFER_NOT_TO_SAY in _flat(form.fields[name].choices), name
        assert form[name].value() == PREFER_NOT_TO_SAY, name
    # The postcode district says how to not answer it.
    assert "Leave this blank if you prefer not to say" in form.fields["postcode_district"].help_text


def test_age_bands_are_the_seven_bands():
    assert [label for _value, label in AGE_BAND_CHOICES[:-1]] == [
        "16 to 24",
        "25 to 34",
        "35 to 44",
        "45 to 54",
        "55 to 64",
        "65 to 74",
        "75 or over",
    ]


def test_ethnic_groups_are_the_census_19_in_5_groups(client, member):
    groups = [
        (group, options) for group, options in ETHNIC_GROUP_CHOICES if isinstance(options, list)
    ]
    assert [str(group) for group, _options in groups] == [
        "Asian or Asian British",
        "Black, Black British, Caribbean or African",
        "Mixed or multiple ethnic groups",
        "White",
        "Other ethnic group",
    ]
    assert [len(options) for _group, options in groups] == [5, 3, 4, 5, 2]
    client.force_login(member)
    page = client.get(EQUALITY).content.decode()
    assert page.count("<optgroup") == 5
    assert '<optgroup label="Asian or Asian British">' in page
    assert "Gypsy or Irish Traveller" in page


def test_consent_says_what_it_is_for_who_sees_it_and_how_to_withdraw(client, member):
    client.force_login(member)
    label = str(client.get(EQUALITY).context["form"].fields["consent"].label)
    assert "whose voices are missing" in label
    assert "only totals" in label and "small numbers are hidden" in label
    assert "withdraw" in label


# --- Saving and withdrawing -----------------------------------------------------------------


def test_answers_are_saved_with_the_time_of_consent(client, member):
    client.force_login(member)
    before = timezone.now()
    response = client.post(EQUALITY, _answers(postcode_district=" bs5 "), follow=True)
    assert response.redirect_chain == [(EQUALITY, 302)]
    assert "Your answers are saved." in response.content.decode()
    answers = EqualityMonitoring.objects.get(user=member)
    assert answers.consented_at >= before
    assert answers.postcode_district == "BS5"
    assert (answers.age_band, answers.ethnic_group, answers.sex) == (
        "35-44",
        "asian_indian",
        "female",
    )
    # The form shows the saved answers, with consent ticked and a way to withdraw.
    page = response.content.decode()
    assert 'value="asian_indian" selected' in page
    assert "Withdraw your consent" in page


def test_answers_can_be_changed(client, member):
    _give_answers(member, age_band="25-34")
    client.force_login(member)
    client.post(EQUALITY, _answers(age_band="45-54"))
    assert EqualityMonitoring.objects.get(user=member).age_band == "45-54"
    assert EqualityMonitoring.objects.count() == 1


def test_prefer_not_to_say_to_everything_is_fine(client, member):
    client.force_login(member)
    client.post(
        EQUALITY,
        {
            **{
                name: PREFER_NOT_TO_SAY
                for name in (
                    "age_band",
                    "ethnic_group",
                    "sex",
                    "gender_same_as_birth",
                    "disability",
                )
            },
            "postcode_district": "",
            "consent": "on",
        },
    )
    answers = EqualityMonitoring.objects.get(user=member)
    assert answers.ethnic_group == PREFER_NOT_TO_SAY and answers.postcode_district == ""


def test_without_consent_nothing_is_saved_and_the_checkbox_says_why(client, member):
    client.force_login(member)
    response = client.post(EQUALITY, _answers(consent=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_consent_error"' in page
    assert "tick this box to say that you agree" in page
    assert 'value="S10"' in page  # what was typed is kept
    assert not EqualityMonitoring.objects.exists()


@pytest.mark.parametrize(
    "typed", ["S10", "s10", "BS5", "m1", "SW1A", "ec1a", "W1A", "b 33", "LS16"]
)
def test_postcode_districts_are_stored_in_upper_case(client, member, typed):
    client.force_login(member)
    client.post(EQUALITY, _answers(postcode_district=typed))
    assert EqualityMonitoring.objects.get(user=member).postcode_district == typed.upper().replace(
        " ", ""
    )


@pytest.mark.parametrize("typed", ["S10 2TN", "10S", "SSS1", "S", "123", "S1-", "<b>"])
def test_a_bad_postcode_district_is_refused_next_to_the_field(client, member, typed):
    client.force_login(member)
    response = client.post(EQUALITY, _answers(postcode_district=typed))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_postcode_district_error"' in page
    assert "Enter only the first part of your postcode, such as S10 or BS5." in page
    assert not EqualityMonitoring.objects.exists()


def test_an_unknown_answer_is_refused(client, member):
    client.force_login(member)
    response = client.post(EQUALITY, _answers(ethnic_group="martian"))
    assert 'id="id_ethnic_group_error"' in response.content.decode()
    assert not EqualityMonitoring.objects.exists()


def test_withdrawing_consent_deletes_the_answers(client, member, outsider):
    _give_answers(member)
    _give_answers(outsider)
    client.force_login(member)
    response = client.post(WITHDRAW, follow=True)
    assert response.redirect_chain == [(EQUALITY, 302)]
    assert "We have deleted your answers." in response.content.decode()
    assert not EqualityMonitoring.objects.filter(user=member).exists()
    assert EqualityMonitoring.objects.filter(user=outsider).exists()


def test_withdrawing_with_nothing_held_says_so(client, member):
    client.force_login(member)
    response = client.post(WITHDRAW, follow=True)
    assert "We do not hold any equality monitoring answers from you." in response.content.decode()


def test_answers_are_not_logged(client, member, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(member)
    client.post(EQUALITY, _answers(postcode_district="ZE2", ethnic_group="white_roma"))
    answers = EqualityMonitoring.objects.get(user=member)
    assert "ZE2" not in caplog.text and "white_roma" not in caplog.text
    assert "ZE2" not in str(answers) and "white_roma" not in repr(answers)


def test_answers_are_not_in_the_django_admin(client, staff):
    assert not admin.site.is_registered(EqualityMonitoring)
    client.force_login(staff)
    assert client.get("/admin/members/equalitymonitoring/").status_code == 404


# --- Totals for later reports ---------------------------------------------------------------


def _people_answering(count: int, start: int = 0, **answers) -> list[int]:
    ids = []
    for i in range(start, start + count):
        person = make_person(f"person{i}@example.org")
        _give_answers(person, **answers)
        ids.append(person.pk)
    return ids


def test_counts_under_five_are_suppressed():
    _people_answering(6, sex="female")
    _people_answering(2, start=10, sex="male")
    assert EqualityMonitoring.objects.counts_by("sex") == {
        "female": 6,
        "male": None,
        PREFER_NOT_TO_SAY: None,
    }


def test_counts_are_only_among_the_people_asked_about():
    community = _people_answering(5, age_band="16-24")
    _people_answering(3, start=10, age_band="16-24")
    counts = EqualityMonitoring.objects.counts_by("age_band", community)
    assert counts["16-24"] == 5
    assert list(counts) == [value for value, _label in AGE_BAND_CHOICES]
    assert EqualityMonitoring.objects.counts_by("age_band", community[:4])["16-24"] is None


def test_counts_of_grouped_and_free_answers():
    _people_answering(5, ethnic_group="white_irish", postcode_district="S10")
    by_group = EqualityMonitoring.objects.counts_by("ethnic_group")
    assert by_group["white_irish"] == 5 and len(by_group) == 20
    assert EqualityMonitoring.objects.counts_by("postcode_district") == {"S10": 5}


def test_counts_only_of_the_monitoring_questions():
    with pytest.raises(ValueError):
        EqualityMonitoring.objects.counts_by("user__email")
