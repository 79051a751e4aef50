"""Survey results and the community calendar feed are built once per revision of their data:
a fixed number of queries at any size, and every change to the data shows at once, even
from a writer that commits after another one stamped later."""

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from engagement import calendar, services
from engagement.models import Answer, Question, Response, Session, Survey, Venue
from engagement.survey_forms import SurveyAnswerForm
from members import revisions
from members.models import Revision
from tests.engagement.test_exports_at_scale import add_responses
from tests.engagement.test_sessions import make_session
from tests.engagement.test_surveys import answer, make_survey

pytestmark = pytest.mark.django_db


# --- Survey results ---------------------------------------------------------------------------


def results(client, community, survey, **query):
    response = client.get(
        reverse("engagement:manage_survey_results", args=[community.slug, survey.pk]), query
    )
    assert response.status_code == 200
    return response


def clear_rows(response):
    summary = {item["question"].text: item for item in response.context["summary"]}
    return [(r["label"], r["count"]) for r in summary["Were they clear?"]["rows"]]


@pytest.mark.parametrize("size", [3, 300])
def test_results_cost_the_same_queries_at_any_size(
    client, community, coordinator, size, django_assert_num_queries
):
    survey, *questions = make_survey(community)
    add_responses(survey, questions, size)
    client.force_login(coordinator)
    # session, user, community, may they coordinate, the survey with its results' revision,
    # then on the first visit its questions, their choices, the number of responses and the
    # counts grouped in SQL: answers per question, per choice, per yes/no and rating value;
    # and a page of written answers (one query per written question).
    with django_assert_num_queries(12):
        first = results(client, community, survey)
    # Again: the questions, the number of responses, the figures, chart and table come from
    # the computed cache.
    with django_assert_num_queries(6):
        again = results(client, community, survey)
    assert f"{size} responses so far." in again.content.decode()
    assert clear_rows(again) == clear_rows(first) == [("Yes", size), ("No", 0)]


def test_a_new_changed_or_removed_answer_shows_at_once(client, community, coordinator, member):
    survey, clear, topics, rating, words = make_survey(community)
    questions = [clear, topics, rating, words]
    client.force_login(coordinator)
    assert clear_rows(results(client, community, survey)) == [("Yes", 0), ("No", 0)]
    mine = answer(survey, questions, user=member, data=["yes", None, "3", None])
    assert clear_rows(results(client, community, survey)) == [("Yes", 1), ("No", 0)]
    answer(survey, questions, user=member, data=["no", None, "3", None])  # changed
    assert clear_rows(results(client, community, survey)) == [("Yes", 0), ("No", 1)]
    Response.objects.filter(pk=mine.pk).delete()
    page = results(client, community, survey)
    assert clear_rows(page) == [("Yes", 0), ("No", 0)]
    assert "0 responses so far." in page.content.decode()


def test_a_changed_question_and_its_choices_show_at_once(client, community, coordinator):
    survey, clear, topics, *_ = make_survey(community)
    client.force_login(coordinator)
    assert "Were they clear?" in results(client, community, survey).content.decode()
    edit = reverse("engagement:manage_survey_question", args=[community.slug, survey.pk, clear.pk])
    client.post(edit, {"text": "Were the letters clear?", "kind": "yes_no", "position": 1})
    page = results(client, community, survey).content.decode()
    assert "Were the letters clear?" in page and "Were they clear?" not in page
    edit = reverse("engagement:manage_survey_question", args=[community.slug, survey.pk, topics.pk])
    client.post(
        edit,
        {
            "text": "What should change?",
            "kind": "multiple",
            "position": 2,
            "choices_text": "Words\nLength\nTiming\nTone",
        },
    )
    assert "Tone" in results(client, community, survey).content.decode()


def test_written_answers_are_paged_in_sql(client, community, coordinator, settings):
    survey, *questions = make_survey(community, audience="anyone")
    for i in range(27):
        answer(survey, questions, user=AnonymousUser(), data=["yes", None, None, f"Note {i}"])
    client.force_login(coordinator)
    first = results(client, community, survey)
    [written] = [item for item in first.context["summary"] if item["texts"]]
    assert [text for _pk, text in written["written"]] == [f"Note {i}" for i in range(26, 1, -1)]
    assert "Older written answers" in first.content.decode()
    second = results(client, community, survey, page=2)
    [written] = [item for item in second.context["summary"] if item["texts"]]
    assert [text for _pk, text in written["written"]] == ["Note 1", "Note 0"]
    assert "Newer written answers" in second.content.decode()
    assert "Older written answers" not in second.content.decode()
    found = results(client, community, survey, q="note 2", page="x")
    [written] = [item for item in found.context["summary"] if item["texts"]]
    assert len(written["written"]) == 8  # Note 2 and Note 20 to 26


# --- The calendar feed --------------------------------------------------------------------------


def feed(client, community):
    response = client.get(reverse("engagement:sessions_feed", args=[community.slug]))
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def events(cal):
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


@pytest.mark.parametrize("size", [3, 300])
def test_the_feed_costs_the_same_queries_at_any_size(
    client, community, venue, size, django_assert_num_queries
):
    start = timezone.now()
    Session.objects.bulk_create(
        Session(
            community=community,
            title=f"S{i}",
            kind="workshop",
            venue=venue,
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=1),
            status="published",
        )
        for i in range(size)
    )
    # The community, the revision of its sessions and venues, then (first time only) the
    # sessions in the window with their venues.
    with django_assert_num_queries(3):
        assert len(events(feed(client, community))) == size
    with django_assert_num_queries(2):
        assert len(events(feed(client, community))) == size


def test_the_feed_holds_upcoming_and_recent_sessions_only(client, community):
    make_session(community, title="Next week", days=7)
    make_session(community, title="Last month", days=-30)
    make_session(community, title="Long ago", days=-(calendar.FEED_PAST_DAYS + 2))
    cal = feed(client, community)
    assert sorted(events(cal)) == ["Last month", "Next week"]
    assert "last 90 days" in str(cal["X-WR-CALDESC"])


def test_every_change_to_a_session_shows_in_the_feed_at_once(client, community, venue):
    session = make_session(community, title="Letters", venue=venue)
    draft = make_session(community, title="Draft", status=Session.Status.DRAFT)
    gone = make_session(community, title="Going")
    assert sorted(events(feed(client, community))) == ["Going", "Letters"]
    session.title = "Clinic letters"
    session.save()
    draft.set_status(Session.Status.PUBLISHED, by=None)
    gone.delete()
    assert sorted(events(feed(client, community))) == ["Clinic letters", "Draft"]
    session.set_status(Session.Status.CANCELLED, by=None)
    assert str(events(feed(client, community))["Clinic letters"]["STATUS"]) == "CANCELLED"
    venue.name = "The new library"
    venue.save()
    location = str(events(feed(client, community))["Clinic letters"]["LOCATION"])
    assert location.startswith("The new library")


def test_the_feed_of_one_community_is_not_another_s(client, community, other_community):
    make_session(community, title="Ours")
    make_session(other_community, title="Theirs")
    assert sorted(events(feed(client, community))) == ["Ours"]
    assert sorted(events(feed(client, other_community))) == ["Theirs"]


def test_a_single_session_file_is_still_one_event(client, community):
    session = make_session(community, title="Just this")
    response = client.get(reverse("engagement:session_ics", args=[community.slug, session.pk]))
    assert sorted(events(Calendar.from_ical(response.content))) == ["Just this"]


@pytest.fixture
def venue(community):
    return Venue.objects.create(community=community, name="Library", kind="library")


# --- Two writers overlapping ------------------------------------------------------------------
#
# A row's `updated_at` is stamped when it is saved, inside a transaction that may commit after
# another writer's, stamped later, has committed. `stamped_at` replays that in one thread: the
# edit is stamped with a moment older than the newest row, and lands after the page was kept.


@contextmanager
def stamped_at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def test_an_answer_changed_by_a_writer_that_commits_last_shows_at_once(
    client, community, coordinator, member
):
    survey, clear, topics, rating, words = make_survey(community, audience="anyone")
    questions = [clear, topics, rating, words]
    answer(survey, questions, user=member, data=["yes", None, "3", None])
    edit_started = timezone.now()
    # Another person's answers, saved after the member started changing theirs but committed
    # first; the page is then shown and kept.
    answer(survey, questions, user=AnonymousUser(), data=["yes", None, "4", None])
    client.force_login(coordinator)
    assert clear_rows(results(client, community, survey)) == [("Yes", 2), ("No", 0)]
    with stamped_at(edit_started):
        answer(survey, questions, user=member, data=["no", None, "3", None])
    page = results(client, community, survey)
    assert clear_rows(page) == [("Yes", 1), ("No", 1)]
    assert "2 responses so far." in page.content.decode()


def test_a_session_changed_by_a_writer_that_commits_last_shows_in_the_feed(client, community):
    letters = make_session(community, title="Letters")
    edit_started = timezone.now()
    make_session(community, title="Parking", days=5)
    assert sorted(events(feed(client, community))) == ["Letters", "Parking"]
    letters.title = "Clinic letters"
    with stamped_at(edit_started):
        letters.save()
    assert sorted(events(feed(client, community))) == ["Clinic letters", "Parking"]


# --- Every write raises the revision ----------------------------------------------------------


def _survey_revision(survey) -> int:
    return revisions.read(revisions.key(Survey.RESULTS_REVISION, survey.pk))[0]


def _feed_revision(community) -> int:
    return revisions.read(revisions.key(calendar.REVISION, community.pk))[0]


def _answered(survey, questions, member):
    first = questions[1].choices.first()
    return answer(survey, questions, user=member, data=["yes", [first.pk], "3", "Fine"])


def _a_question_saved(survey, questions, member):
    clear = questions[0]
    clear.text = "Were the letters clear?"
    clear.save()  # as the admin saves it


def _choices_replaced(survey, questions, member):
    unanswered = survey.questions.get(text="Which day suits you?")
    services.save_question(question=unanswered, choices=["Monday", "Friday", "Saturday"])


def _a_choice_renamed(survey, questions, member):
    choice = questions[1].choices.first()
    choice.text = "Wording"
    choice.save()


def _a_choice_added_to_an_answer(survey, questions, member):
    mine = Answer.objects.get(response__user=member, question=questions[1])
    mine.choices.add(questions[1].choices.last())


def _a_choice_taken_off_from_its_side(survey, questions, member):
    choice = questions[1].choices.first()
    choice.answers.remove(*choice.answers.all())


def _responses_deleted(survey, questions, member):
    Response.objects.filter(survey=survey, user=member).delete()


def _a_response_deleted(survey, questions, member):
    Response.objects.get(survey=survey, user=member).delete()


def _an_answer_deleted(survey, questions, member):
    Answer.objects.filter(response__user=member, question=questions[3]).get().delete()


def _a_question_deleted_with_its_answers(survey, questions, member):
    questions[0].delete()


def _answers_from_paper(survey, questions, member):
    form = SurveyAnswerForm(
        data={f"q{questions[0].pk}": "no"}, questions=survey.questions.prefetch_related("choices")
    )
    assert form.is_valid()
    services.save_response(
        survey=survey, user=member, answers=list(form.answers()), paper={"on_behalf_of": "Jo"}
    )


SURVEY_WRITES = {
    "a member answers": lambda survey, questions, member: None,  # the answer made first
    "a member changes their answers": lambda survey, questions, member: answer(
        survey, questions, user=member, data=["no", None, "3", None]
    ),
    "answers entered from paper": _answers_from_paper,
    "a question saved": _a_question_saved,
    "a question's choices replaced": _choices_replaced,
    "a choice renamed": _a_choice_renamed,
    "a choice added to an answer": _a_choice_added_to_an_answer,
    "a choice taken off from the choice's side": _a_choice_taken_off_from_its_side,
    "responses deleted": _responses_deleted,
    "a response deleted, with its answers": _a_response_deleted,
    "an answer deleted": _an_answer_deleted,
    "a question deleted, with its answers": _a_question_deleted_with_its_answers,
}


@pytest.mark.parametrize("write", list(SURVEY_WRITES))
def test_every_write_to_what_the_results_show_raises_the_survey_s_revision(
    community, member, write
):
    survey, *questions = make_survey(community)
    days = Question(survey=survey, text="Which day suits you?", kind="single", position=5)
    services.save_question(question=days, choices=["Monday", "Friday"])
    if write == "a member answers":
        before = _survey_revision(survey)
    _answered(survey, questions, member)
    if write != "a member answers":
        before = _survey_revision(survey)
    SURVEY_WRITES[write](survey, questions, member)
    assert _survey_revision(survey) > before


def test_a_cascade_raises_the_revision_once_not_for_each_row(community, member):
    survey, *questions = make_survey(community, audience="anyone")
    add_responses(survey, questions, 30)
    before = _survey_revision(survey)
    with CaptureQueriesContext(connection) as queries:
        questions[1].delete()  # its choices, 30 answers and their choices go with it
    raised = [q for q in queries if Revision._meta.db_table in q["sql"]]
    assert len(raised) == 1
    assert _survey_revision(survey) == before + 1


def test_a_response_moved_to_another_survey_raises_both(community, member):
    survey, *questions = make_survey(community)
    other, *_ = make_survey(community)
    mine = _answered(survey, questions, member)
    before = (_survey_revision(survey), _survey_revision(other))
    mine.survey = other
    mine.save()  # as the admin would
    assert _survey_revision(survey) > before[0] and _survey_revision(other) > before[1]


def test_another_survey_s_answers_leave_this_one_s_revision(community, member):
    survey, *questions = make_survey(community)
    other, *other_questions = make_survey(community)
    before = _survey_revision(survey)
    _answered(other, other_questions, member)
    assert _survey_revision(survey) == before


def _session_changed(community, session, venue):
    session.title = "Clinic letters"
    services.save_session(session=session, changed=["title"])


def _attendance_recorded(community, session, venue):
    past = Session.objects.get(community=community, title="Last week")
    services.record_attendance(
        session=past,
        came=[],
        walk_in_count=3,
        walk_in_perspectives=[],
        attendance_notes="",
        completed=True,
    )


SESSION_WRITES = {
    "a session made": lambda community, session, venue: services.save_session(
        session=Session(
            community=community,
            title="New",
            kind="workshop",
            starts_at=session.starts_at,
            ends_at=session.ends_at,
        ),
        changed=[],
    ),
    "a session changed": _session_changed,
    "a session cancelled": lambda community, session, venue: services.cancel_session(
        session=session
    ),
    "a session copied": lambda community, session, venue: services.copy_session(session=session),
    "attendance recorded": _attendance_recorded,
    "a session deleted": lambda community, session, venue: session.delete(),
    "sessions deleted": lambda community, session, venue: Session.objects.filter(
        community=community
    ).delete(),
    "a venue renamed": lambda community, session, venue: (
        Venue.objects.filter(pk=venue.pk).get().save()
    ),
    "a venue deleted": lambda community, session, venue: Venue.objects.get(
        community=community, name="Spare room"
    ).delete(),
}


@pytest.mark.parametrize("write", list(SESSION_WRITES))
def test_every_write_to_what_the_feed_shows_raises_the_community_s_revision(
    community, venue, write
):
    session = make_session(community, title="Letters", venue=venue)
    make_session(community, title="Last week", days=-7)
    Venue.objects.create(community=community, name="Spare room", kind="other")
    before = _feed_revision(community)
    SESSION_WRITES[write](community, session, venue)
    assert _feed_revision(community) > before


def test_a_session_moved_to_another_community_leaves_both_feeds_right(
    client, community, other_community
):
    session = make_session(community, title="Letters")
    make_session(other_community, title="Theirs")
    assert sorted(events(feed(client, community))) == ["Letters"]
    assert sorted(events(feed(client, other_community))) == ["Theirs"]
    session.community = other_community
    session.save()  # as the admin would
    assert sorted(events(feed(client, community))) == []
    assert sorted(events(feed(client, other_community))) == ["Letters", "Theirs"]


def test_a_venue_renamed_in_the_admin_shows_in_the_feed(client, community, venue, staff):
    make_session(community, title="Letters", venue=venue)
    assert str(events(feed(client, community))["Letters"]["LOCATION"]) == "Library"
    client.force_login(staff)
    data = {
        name: value for name, value in model_to_dict(venue).items() if value not in (None, False)
    }
    data["name"] = "The new library"
    response = client.post(reverse("admin:engagement_venue_change", args=[venue.pk]), data)
    assert response.status_code == 302
    assert str(events(feed(client, community))["Letters"]["LOCATION"]) == "The new library"


def test_kept_written_answers_show_each_change_and_stay_with_their_community(
    client, community, other_community, coordinator, other_coordinator, member
):
    """The written answers shown are kept rendered under their ids and words, the
    community's address and the language: an edited answer shows its new words, and
    another community's page never shows this one's."""
    survey, *questions = make_survey(community)
    mine = answer(survey, questions, user=member, data=["yes", None, "3", "Bigger print"])
    client.force_login(coordinator)
    assert "Bigger print" in results(client, community, survey).content.decode()
    Answer.objects.filter(response=mine, text="Bigger print").update(text="Larger print")
    page = results(client, community, survey).content.decode()
    assert "Larger print" in page and "Bigger print" not in page
    assert f"/c/{community.slug}/manage/" in page.split("Larger print")[1].split("</li>")[0]
    other, *other_questions = make_survey(other_community)
    answer(other, other_questions, user=other_coordinator, data=["no", None, "2", "Larger print"])
    client.force_login(other_coordinator)
    page = results(client, other_community, other).content.decode()
    link = page.split("Larger print")[1].split("</li>")[0]
    assert f"/c/{other_community.slug}/manage/" in link
    assert f"/c/{community.slug}/" not in link
