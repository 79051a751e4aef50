import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from communities.models import Membership
from engagement import services
from engagement.models import Response
from members.models import Notification
from members.outbox import build_message
from tests.conftest import client_as
from tests.engagement.test_sessions import members_of
from tests.engagement.test_surveys import answer, make_survey

pytestmark = pytest.mark.django_db


def test_a_partner_enters_answers_from_paper_on_someones_behalf(client, community, partner):
    from tests.engagement.test_sessions import make_session

    session = make_session(community)
    session.facilitators.add(partner)
    survey, clear, topics, rating, words = make_survey(community, session=session)
    client.force_login(partner)
    url = f"/c/{community.slug}/manage/surveys/{survey.pk}/paper/"
    missing = client.post(url, {"paper-contact_by": "phone", f"q{clear.pk}": "yes"})
    page = missing.content.decode()
    assert "Say whose answers these are." in page and "Add how to reach them" in page
    data = {
        "paper-sheet": str(uuid.uuid4()),
        "paper-on_behalf_of": "A carer at the Tuesday drop-in",
        "paper-contact_by": "phone",
        "paper-contact_details": "0114 000 0000",
        f"q{clear.pk}": "no",
        f"q{words.pk}": "The bus does not stop near the clinic",
    }
    client.post(url, data)
    response = Response.objects.get()
    assert response.entered_by == partner and response.user is None
    assert (response.on_behalf_of, response.contact_by) == (
        "A carer at the Tuesday drop-in",
        "phone",
    )
    assert response.answers.count() == 2


@pytest.mark.parametrize("persona", ["anonymous", "member", "other_coordinator"])
def test_only_coordinators_and_partners_enter_paper_answers(client, request, community, persona):
    survey, *_ = make_survey(community)
    client_as(client, request, persona)
    response = client.get(f"/c/{community.slug}/manage/surveys/{survey.pk}/paper/")
    assert response.status_code == (302 if persona == "anonymous" else 403)


def test_a_survey_poster_with_a_qr_code(client, community):
    survey, *_ = make_survey(community, audience="anyone")
    page = client.get(f"/c/{community.slug}/surveys/{survey.pk}/poster/").content.decode()
    assert survey.title in page and survey.get_absolute_url() in page
    qr = client.get(f"/c/{community.slug}/surveys/{survey.pk}/poster/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"


def test_members_who_chose_surveys_and_have_not_answered_are_reminded_once(
    community, django_capture_on_commit_callbacks
):
    community.ensure_default_involvement_options()
    surveys_option = community.involvement_options.get(name="One-off surveys")
    sessions_option = community.involvement_options.get(name="Coming to sessions")
    chose, answered, other = members_of(community, 3)
    for person in (chose, answered):
        Membership.objects.get(user=person).involvement.add(surveys_option)
    Membership.objects.get(user=other).involvement.add(sessions_option)
    survey, clear, topics, rating, words = make_survey(
        community, closes_at=timezone.now() + timedelta(days=1, hours=12)
    )
    answer(survey, [clear, topics, rating, words], user=answered, data=["yes", None, None, None])
    # Beat's run starts one fan-out; the worker (eager here) writes to the people after commit.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_survey_closing_reminders() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_survey_closing_reminders() == 0
    assert list(
        Notification.objects.filter(kind="survey_closing").values_list("recipient", flat=True)
    ) == [chose.pk]
    text = build_message(Notification.objects.get(kind="survey_closing")).body
    assert "It closes at " in text and " on " in text and ".." not in text


def test_no_reminder_while_a_survey_has_days_to_run(community):
    make_survey(community, closes_at=timezone.now() + timedelta(days=5))
    assert services.send_survey_closing_reminders() == 0


def test_a_partner_cannot_enter_paper_answers_for_a_session_they_do_not_run(
    client, community, partner
):
    survey, clear, *_ = make_survey(community)
    client.force_login(partner)
    response = client.post(
        f"/c/{community.slug}/manage/surveys/{survey.pk}/paper/",
        {"paper-sheet": str(uuid.uuid4()), "paper-on_behalf_of": "Invented", f"q{clear.pk}": "yes"},
    )
    assert response.status_code == 404 and not Response.objects.exists()


def test_contact_details_are_kept_only_with_consent(client, community, coordinator):
    survey, clear, *_ = make_survey(community)
    client.force_login(coordinator)
    client.post(
        f"/c/{community.slug}/manage/surveys/{survey.pk}/paper/",
        {
            "paper-sheet": str(uuid.uuid4()),
            "paper-on_behalf_of": "A visitor",
            "paper-contact_by": "",
            "paper-contact_details": "07000 000000",
            f"q{clear.pk}": "yes",
        },
    )
    assert Response.objects.get().contact_details == ""


def test_saving_the_same_sheet_twice_records_it_once(client, community, coordinator):
    survey, clear, *_ = make_survey(community)
    client.force_login(coordinator)
    url = f"/c/{community.slug}/manage/surveys/{survey.pk}/paper/"
    data = {
        "paper-sheet": str(uuid.uuid4()),
        "paper-on_behalf_of": "A visitor",
        f"q{clear.pk}": "yes",
    }
    client.post(url, data)
    again = client.post(url, data, follow=True)
    assert "already saved" in again.content.decode()
    assert Response.objects.count() == 1
    form = client.get(url).context["details"]
    assert form["sheet"].value() != data["paper-sheet"]  # a fresh sheet for the next paper
