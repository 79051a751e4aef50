from datetime import timedelta

import pytest
from django.utils import timezone

from engagement.models import Answer, Choice, Question, Response, Survey
from tests.conftest import client_as
from tests.engagement.test_sessions import members_of

pytestmark = pytest.mark.django_db


def make_survey(community, **fields):
    survey = Survey.objects.create(
        community=community, title="How were your clinic letters?", published=True, **fields
    )
    clear = Question.objects.create(
        survey=survey, text="Were they clear?", kind="yes_no", required=True, position=1
    )
    topics = Question.objects.create(
        survey=survey, text="What should change?", kind="multiple", position=2
    )
    for i, text in enumerate(["Words", "Length", "Timing"]):
        Choice.objects.create(question=topics, text=text, position=i)
    rating = Question.objects.create(
        survey=survey, text="Overall, out of 5", kind="rating", position=3
    )
    words = Question.objects.create(
        survey=survey, text="Anything else?", kind="long_text", position=4
    )
    return survey, clear, topics, rating, words


def test_a_member_answers_once_and_can_change_their_answers(client, community):
    survey, clear, topics, rating, words = make_survey(community)
    [person] = members_of(community, 1)
    client.force_login(person)
    words_choice = topics.choices.get(text="Words")
    data = {f"q{clear.pk}": "no", f"q{topics.pk}": [words_choice.pk], f"q{rating.pk}": "2",
            f"q{words.pk}": "Too much jargon & abbreviations"}  # fmt: skip
    response = client.post(survey.get_absolute_url(), data, follow=True)
    assert "Your answers are saved" in response.content.decode()
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "You have answered already" in page and "Too much jargon &amp; abbreviations" in page
    client.post(survey.get_absolute_url(), {**data, f"q{clear.pk}": "yes"})
    assert Response.objects.count() == 1
    answers = {a.question_id: a for a in Answer.objects.prefetch_related("choices")}
    assert answers[clear.pk].text == "yes" and answers[rating.pk].number == 2
    assert list(answers[topics.pk].choices.all()) == [words_choice]


def test_a_missing_required_answer_is_asked_for_and_the_rest_kept(client, community):
    survey, clear, topics, rating, words = make_survey(community)
    [person] = members_of(community, 1)
    client.force_login(person)
    response = client.post(survey.get_absolute_url(), {f"q{words.pk}": "My words stay"})
    page = response.content.decode()
    assert "Please answer this question." in page and "My words stay" in page
    assert not Response.objects.exists()


def test_a_choice_never_offered_is_refused(client, community, other_community):
    survey, clear, topics, rating, words = make_survey(community)
    foreign = Choice.objects.create(question=make_survey(other_community)[2], text="Elsewhere")
    [person] = members_of(community, 1)
    client.force_login(person)
    response = client.post(
        survey.get_absolute_url(),
        {f"q{clear.pk}": "maybe", f"q{topics.pk}": [foreign.pk], f"q{rating.pk}": "9"},
    )
    assert response.content.decode().count("Select a valid choice") == 3
    assert not Response.objects.exists()


def test_a_closed_survey_takes_no_answers(client, community):
    survey, clear, *_ = make_survey(community, closes_at=timezone.now() - timedelta(hours=1))
    [person] = members_of(community, 1)
    client.force_login(person)
    page = client.post(survey.get_absolute_url(), {f"q{clear.pk}": "yes"}).content.decode()
    assert "This survey is closed." in page and not Response.objects.exists()


def test_a_members_survey_is_closed_to_others_and_a_public_one_open_to_all(
    client, community, outsider
):
    survey, clear, *_ = make_survey(community)
    client.force_login(outsider)
    client.post(survey.get_absolute_url(), {f"q{clear.pk}": "yes"})
    assert not Response.objects.exists()
    client.logout()
    survey.audience = Survey.Audience.ANYONE
    survey.save()
    client.post(survey.get_absolute_url(), {f"q{clear.pk}": "yes"})
    client.post(survey.get_absolute_url(), {f"q{clear.pk}": "no"})
    assert Response.objects.filter(user=None).count() == 2


def test_public_answers_from_one_address_are_limited(client, community, monkeypatch):
    from engagement import survey_views

    monkeypatch.setattr(survey_views, "PUBLIC_ANSWERS_PER_HOUR", 2)
    survey, clear, *_ = make_survey(community, audience=Survey.Audience.ANYONE)
    for _ in range(3):
        response = client.post(survey.get_absolute_url(), {f"q{clear.pk}": "yes"}, follow=True)
    assert "Too many answers from here" in response.content.decode()
    assert Response.objects.count() == 2


def test_a_member_may_answer_without_their_name_where_allowed(client, community):
    survey, clear, *_ = make_survey(community, allow_anonymous=True)
    [person] = members_of(community, 1)
    client.force_login(person)
    client.post(survey.get_absolute_url(), {f"q{clear.pk}": "yes", "anonymous": "on"})
    assert Response.objects.get().user is None


def test_an_unpublished_survey_is_hidden_from_all_but_coordinators(
    client, community, coordinator, member
):
    survey, *_ = make_survey(community)
    survey.published = False
    survey.save()
    client.force_login(member)
    assert client.get(survey.get_absolute_url()).status_code == 404
    client.force_login(coordinator)
    assert client.get(survey.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("choices", [3, 30])
def test_the_answer_page_does_not_grow_with_the_questions(
    client, community, member, choices, django_assert_num_queries
):
    survey, clear, topics, *_ = make_survey(community)
    for i in range(choices):
        Choice.objects.create(question=topics, text=f"Extra {i}", position=10 + i)
    client.force_login(member)
    # session, user, survey with community, may they answer, their earlier response,
    # the questions, their choices.
    with django_assert_num_queries(7):
        assert client.get(survey.get_absolute_url()).status_code == 200


def answer(survey, questions, user=None, **values):
    from engagement import services
    from engagement.survey_forms import SurveyAnswerForm

    pairs = zip(questions, values["data"], strict=True)
    data = {f"q{q.pk}": v for q, v in pairs if v is not None}
    form = SurveyAnswerForm(data=data, questions=survey.questions.prefetch_related("choices"))
    assert form.is_valid(), form.errors
    from django.contrib.auth.models import AnonymousUser

    return services.save_response(
        survey=survey, user=user or AnonymousUser(), answers=list(form.answers())
    )


@pytest.fixture
def answered(community):
    survey, clear, topics, rating, words = make_survey(community, audience=Survey.Audience.ANYONE)
    words_, length, timing = topics.choices.all()
    qs = [clear, topics, rating, words]
    answer(survey, qs, data=["no", [words_.pk, length.pk], "2", "Too much jargon"])
    answer(survey, qs, data=["no", [words_.pk], "4", "=cmd|' /C calc'!A0"])
    answer(survey, qs, data=["yes", None, "5", None])
    return survey


def test_results_count_and_show_every_answer(client, community, coordinator, answered):
    client.force_login(coordinator)
    response = client.get(f"/c/{community.slug}/manage/surveys/{answered.pk}/results/")
    page = response.content.decode()
    assert "3 responses so far." in page
    summary = {item["question"].text: item for item in response.context["summary"]}
    assert [
        (r["label"], r["count"], r["percent"]) for r in summary["Were they clear?"]["rows"]
    ] == [("Yes", 1, 33), ("No", 2, 67)]
    assert [(r["label"], r["count"]) for r in summary["What should change?"]["rows"]] == [
        ("Words", 2),
        ("Length", 1),
        ("Timing", 0),
    ]
    assert "Too much jargon" in page
    assert 'role="img"' in page and "<title" in page and "<table" in page
    filtered = client.get(
        f"/c/{community.slug}/manage/surveys/{answered.pk}/results/", {"q": "jargon"}
    )
    assert (
        "Too much jargon" in filtered.content.decode() and "calc" not in filtered.content.decode()
    )


def test_results_csv_has_a_row_per_response_and_escapes_formulas(
    client, community, coordinator, answered
):
    import csv
    import io

    client.force_login(coordinator)
    text = (
        client.get(f"/c/{community.slug}/manage/surveys/{answered.pk}/results.csv")
        .getvalue()
        .decode()
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][5:] == [
        "Were they clear?",
        "What should change?",
        "Overall, out of 5",
        "Anything else?",
    ]
    assert len(rows) == 4
    assert rows[1][6] == "Words; Length"
    assert rows[2][8].startswith("'=")


@pytest.mark.parametrize("persona", ["anonymous", "member", "partner", "other_coordinator"])
def test_only_coordinators_see_results(client, request, community, answered, persona):
    client_as(client, request, persona)
    for suffix in ("results/", "results.csv"):
        response = client.get(f"/c/{community.slug}/manage/surveys/{answered.pk}/{suffix}")
        assert response.status_code == (302 if persona == "anonymous" else 403)


@pytest.mark.parametrize("extra", [3, 30])
def test_results_do_not_grow_with_the_answers(
    client, community, coordinator, answered, extra, django_assert_num_queries
):
    from engagement.models import Question

    qs = list(Question.objects.filter(survey=answered).order_by("position"))
    for _ in range(extra):
        answer(answered, qs, data=["yes", None, "3", "More words"])
    client.force_login(coordinator)
    # session, user, community, coordinator check, the survey with its results' revision;
    # on this first visit its questions, their choices, the number of responses and the
    # counts grouped in SQL: answered, choices, yes/no and ratings; then a page of each
    # written question's answers (one query each; one here).
    with django_assert_num_queries(12):
        assert (
            client.get(f"/c/{community.slug}/manage/surveys/{answered.pk}/results/").status_code
            == 200
        )


def test_a_member_cannot_answer_again_without_their_name(client, community):
    survey, clear, *_ = make_survey(community, allow_anonymous=True)
    [person] = members_of(community, 1)
    client.force_login(person)
    client.post(survey.get_absolute_url(), {f"q{clear.pk}": "yes"})
    client.post(survey.get_absolute_url(), {f"q{clear.pk}": "no", "anonymous": "on"})
    assert Response.objects.count() == 1 and Response.objects.get().user is None
    data = {f"q{clear.pk}": "yes", "anonymous": "on"}
    again = client.post(survey.get_absolute_url(), data, follow=True)
    assert "already answered without your name" in again.content.decode()
    assert Response.objects.count() == 1


def test_an_answered_questions_kind_cannot_change(client, community, coordinator):
    survey, clear, topics, rating, words = make_survey(community, audience="anyone")
    first = topics.choices.first().pk
    answer(survey, [clear, topics, rating, words], data=["yes", [first], "3", None])
    client.force_login(coordinator)
    response = client.post(
        f"/c/{community.slug}/manage/surveys/{survey.pk}/questions/{topics.pk}/",
        {"text": topics.text, "kind": "short_text", "position": 2},
    )
    assert "its kind of answer cannot change" in response.content.decode()
    assert Question.objects.get(pk=topics.pk).kind == "multiple"
    assert Answer.objects.filter(question=topics, choices__isnull=False).exists()


def test_odd_input_to_results_and_choices_is_answered_not_a_server_error(
    client, community, coordinator
):
    survey, *_ = make_survey(community)
    client.force_login(coordinator)
    base = f"/c/{community.slug}/manage/surveys/{survey.pk}/"
    assert client.get(base + "results/?q=a%00b").status_code == 200
    response = client.post(
        base + "questions/",
        {"text": "Long", "kind": "single", "position": 1, "choices_text": "a\n" + "x" * 250},
    )
    assert "200 characters or fewer" in response.content.decode()


def test_coordinators_preview_an_unpublished_survey(client, community, coordinator):
    survey, clear, *_ = make_survey(community)
    survey.published = False
    survey.save()
    client.force_login(coordinator)
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "A preview" in page and clear.text in page and "Send my answers" not in page


def test_opening_and_closing_times_end_their_sentence_with_one_full_stop(client, community):
    """A time in the morning ends in "a.m.": the sentence must not end in "a.m.." """
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(community.time_zone)
    closes = datetime(2030, 5, 2, 7, 4, tzinfo=zone)
    survey, *_ = make_survey(community, audience=Survey.Audience.ANYONE, closes_at=closes)
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "Open until 7:04 a.m. on Thursday 2 May 2030." in page
    survey.opens_at = datetime(2030, 5, 1, 9, 30, tzinfo=zone)
    survey.save()
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "This survey opens at 9:30 a.m. on Wednesday 1 May 2030." in page
    assert "a.m.." not in page
