"""Small builders for the ideas tests: ideas, projects, people, sessions and survey answers."""

from datetime import date, timedelta

from django.utils import timezone

from communities.models import Membership
from engagement.models import Answer, KeyPoint, Question, Registration, Response, Session, Survey
from improvement import services
from improvement.models import Idea, Project
from tests.conftest import make_person


def make_idea(community, *, author=None, title="Clearer clinic letters", **fields) -> Idea:
    defaults = {"description": "Letters in plain English, with the date large at the top."}
    return Idea.objects.create(
        community=community, author=author, title=title, **{**defaults, **fields}
    )


def join(community, user, role=Membership.Role.MEMBER, **fields):
    Membership.objects.create(community=community, user=user, role=role, **fields)
    return user


def new_member(community, email, *, name="", role=Membership.Role.MEMBER, **fields):
    return join(community, make_person(email, name=name), role, **fields)


def past_session(community, **fields) -> Session:
    start = timezone.now() - timedelta(days=2)
    defaults = {
        "title": "Drop-in at the library",
        "kind": Session.Kind.DROP_IN,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "status": Session.Status.COMPLETED,
    }
    return Session.objects.create(community=community, **{**defaults, **fields})


def key_point(session, text="Letters arrive after the appointment.") -> KeyPoint:
    return KeyPoint.objects.create(session=session, text=text)


def came(session, user, attended=True) -> Registration:
    return Registration.objects.create(
        session=session, user=user, status=Registration.Status.REGISTERED, attended=attended
    )


def survey_answer(community, *, user=None, text="Send letters earlier.", **response) -> Answer:
    """One answer to a one-question survey: a member's (user), anonymous (no user), or from
    paper (on_behalf_of, contact_by, contact_details in `response`)."""
    survey = Survey.objects.filter(community=community).first() or Survey.objects.create(
        community=community, title="What would help?", published=True
    )
    question = survey.questions.first() or Question.objects.create(
        survey=survey, text="What one thing would help?", kind=Question.Kind.LONG_TEXT
    )
    answer_to = Response.objects.create(survey=survey, user=user, **response)
    return Answer.objects.create(response=answer_to, question=question, text=text)


def adopted_idea(community, *, by, decided_by, title="Letters sooner") -> Idea:
    """An idea given by a member and adopted by a coordinator: one a project may take up."""
    idea = services.add_idea(community=community, by=by, title=title, description="Please.")
    services.decide(idea=idea, outcome="adopt", reason="Yes.", by=decided_by)
    idea.refresh_from_db()
    return idea


def letters_project(community, *, by, ideas, driver_diagram="") -> Project:
    """A project on clinic letters, led by `by`, taking up `ideas`."""
    return services.create_project(
        community=community,
        by=by,
        ideas=ideas,
        title="Letters on time",
        aim_what="Letters arrive before the appointment",
        aim_how_much="from 40% to 90%",
        aim_by_when=date(2027, 3, 31),
        driver_diagram=driver_diagram,
    )
