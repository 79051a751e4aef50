import pytest

from engagement.models import Choice, Question, Survey
from tests.conftest import client_as
from tests.engagement.test_surveys import answer, make_survey

pytestmark = pytest.mark.django_db


def test_a_coordinator_builds_a_survey_with_questions_and_choices(client, community, coordinator):
    client.force_login(coordinator)
    details = {
        "title": "After the drop-in", "opens_at": "2027-01-10T09:00",
        "closes_at": "2027-01-20T17:00", "audience": "anyone",
    }  # fmt: skip
    client.post(f"/c/{community.slug}/manage/surveys/", details)
    survey = Survey.objects.get()
    assert survey.community == community and survey.audience == "anyone"
    base = f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/"
    client.post(
        base,
        {
            "text": "How did you hear about it?",
            "kind": "single",
            "position": 1,
            "choices_text": "A poster\nA friend\nThe clinic",
        },
    )
    question = Question.objects.get()
    assert [c.text for c in question.choices.all()] == ["A poster", "A friend", "The clinic"]
    page = client.get(f"/c/{community.slug}/manage/surveys/{survey.pk}/").content.decode()
    assert "How did you hear about it?" in page and "A friend" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "Pick one", "kind": "single", "position": 1, "choices_text": "Only one"},
         "Give at least two choices"),
        ({"text": "Pick one", "kind": "single", "position": 1, "choices_text": "A\nA"},
         "Each choice must be different"),
        ({"text": "", "kind": "yes_no", "position": 1}, "This field is required"),
        ({"text": "Odd", "kind": "poem", "position": 1}, "Select a valid choice"),
        ({"text": "Odd", "kind": "yes_no", "position": -1}, "Use 0 or a higher number"),
    ],
)  # fmt: skip
def test_bad_questions_are_refused_next_to_the_field(client, community, coordinator, data, message):
    survey = Survey.objects.create(community=community, title="S")
    client.force_login(coordinator)
    response = client.post(f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/", data)
    assert message in response.content.decode()
    assert not Question.objects.exists()


def test_a_survey_must_close_after_it_opens(client, community, coordinator):
    client.force_login(coordinator)
    response = client.post(
        f"/c/{community.slug}/manage/surveys/",
        {
            "title": "Backwards",
            "opens_at": "2027-01-10T09:00",
            "closes_at": "2027-01-01T09:00",
            "audience": "members",
        },
    )
    assert "The survey must close after it opens." in response.content.decode()
    assert not Survey.objects.exists()


def test_answered_questions_keep_their_choices_and_stay(client, community, coordinator):
    survey, clear, topics, rating, words = make_survey(community, audience="anyone")
    answer(
        survey,
        [clear, topics, rating, words],
        data=["yes", [topics.choices.first().pk], None, None],
    )
    client.force_login(coordinator)
    response = client.post(
        f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/{topics.pk}/",
        {"text": topics.text, "kind": "multiple", "position": 2, "choices_text": "New\nChoices"},
    )
    assert "its choices cannot change" in response.content.decode()
    assert Choice.objects.filter(question=topics).count() == 3
    client.post(f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/{clear.pk}/delete/")
    assert Question.objects.filter(pk=clear.pk).exists()
    client.post(f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/{words.pk}/delete/")
    assert not Question.objects.filter(pk=words.pk).exists()


@pytest.mark.parametrize("persona", ["anonymous", "member", "partner", "other_coordinator"])
def test_only_coordinators_build_surveys(client, request, community, other_community, persona):
    survey = Survey.objects.create(community=community, title="S")
    client_as(client, request, persona)
    base = f"/c/{community.slug}/manage/surveys/"
    for address in (base, f"{base}{survey.pk}/", f"{base}{survey.pk}/questions/"):
        assert client.get(address).status_code == (302 if persona == "anonymous" else 403)
    client.post(
        f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/",
        {"text": "x", "kind": "yes_no", "position": 1},
    )
    assert not Question.objects.exists()


def test_another_communitys_survey_is_not_found(client, community, other_community, coordinator):
    theirs = Survey.objects.create(community=other_community, title="Theirs")
    client.force_login(coordinator)
    for address in (
        f"/c/{community.slug}/manage/surveys/{theirs.pk}/",
        f"/c/{community.slug}/manage/surveys/{theirs.pk}/questions/",
        f"/c/{community.slug}/manage/surveys/{theirs.pk}/results/",
    ):
        assert client.get(address).status_code == 404


def test_a_survey_is_published_only_once_it_has_questions(client, community, coordinator):
    client.force_login(coordinator)
    details = {"title": "Empty", "opens_at": "2027-01-10T09:00", "audience": "members",
               "published": "on"}  # fmt: skip
    response = client.post(f"/c/{community.slug}/manage/surveys/", details)
    assert "Add at least one question before publishing" in response.content.decode()
    assert not Survey.objects.exists()
    client.post(f"/c/{community.slug}/manage/surveys/", {**details, "published": ""})
    survey = Survey.objects.get()
    Question.objects.create(survey=survey, text="Any thoughts?", kind="long_text")
    client.post(f"/c/{community.slug}/manage/surveys/{survey.pk}/", details)
    survey.refresh_from_db()
    assert survey.published


def test_a_survey_is_offered_the_sessions_around_now_and_keeps_its_own(
    client, community, coordinator
):
    """A community's whole history of sessions is not offered: the ones from the last 30
    days and the next 60, and the session a survey is already on."""
    from tests.engagement.test_sessions import make_session

    recent = make_session(community, days=-3, title="Drop-in last week")
    coming = make_session(community, days=20, title="Workshop next month")
    old = make_session(community, days=-200, title="Meeting long ago")
    far = make_session(community, days=120, title="Meeting far ahead")
    client.force_login(coordinator)
    page = client.get(f"/c/{community.slug}/manage/surveys/").content.decode()
    for shown in (recent, coming):
        assert f'<option value="{shown.pk}">{shown.title}</option>' in page
    for hidden in (old, far):
        assert hidden.title not in page
    survey, *_ = make_survey(community, session=old)
    page = client.get(f"/c/{community.slug}/manage/surveys/{survey.pk}/").content.decode()
    assert f'<option value="{old.pk}" selected>{old.title}</option>' in page
    assert far.title not in page
