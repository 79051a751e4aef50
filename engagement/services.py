"""Registering for sessions: places are counted under a lock, so a session is never overbooked."""

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.access import changeable, refuse_if_archived
from communities.models import Membership
from engagement.access import may_answer
from engagement.models import KeyPoint, Registration, Session, Survey, Venue
from members import revisions
from members.fanout import Audience, start
from members.models import User
from members.outbox import notify

SESSION_AUDIENCE = "session_expected"
SURVEY_CLOSING_AUDIENCE = "survey_closing"

Status = Registration.Status


class RegistrationError(ValidationError):
    """A registration that is refused, with a reason to show the person."""


def _taken(session: Session) -> int:
    return session.registrations.filter(status=Status.REGISTERED).count()


def _has_room(session: Session) -> bool:
    return session.capacity is None or _taken(session) < session.capacity


@transaction.atomic
def register(
    *,
    session: Session,
    user: User,
    access_requirements: Iterable[str] = (),
    access_details: str = "",
) -> Registration:
    """Take a place, or a place on the waiting list when the session is full. The session row
    is locked while places are counted, so two people can never both take the last one."""
    session = Session.objects.select_for_update().select_related("community").get(pk=session.pk)
    refuse_if_archived(session.community)
    if not session.is_open_for_registration:
        raise RegistrationError(_("This session is not taking registrations."))
    if not Membership.objects.active().filter(community=session.community, user=user).exists():
        raise RegistrationError(_("Join the community first to register for its sessions."))
    queue = session.registrations.filter(status=Status.WAITING).exclude(user=user).exists()
    status = Status.REGISTERED if _has_room(session) and not queue else Status.WAITING
    registration = Registration.objects.filter(session=session, user=user).first()
    fields = {
        "status": status,
        "access_requirements": sorted(set(access_requirements)),
        "access_details": access_details,
        "queued_at": timezone.now(),
    }
    if registration is None:
        try:
            with transaction.atomic():
                registration = Registration.objects.create(session=session, user=user, **fields)
        except IntegrityError:
            raise RegistrationError(_("You are already registered for this session.")) from None
    elif registration.status != Status.CANCELLED:
        raise RegistrationError(
            _("You are already registered for this session.")
            if registration.status == Status.REGISTERED
            else _("You are already on the waiting list for this session.")
        )
    else:
        for name, value in fields.items():
            setattr(registration, name, value)
        registration.save(update_fields=list(fields))
    notify(
        recipients=[user],
        kind="registration_confirmed" if status == Status.REGISTERED else "waiting_list_joined",
        about=registration,
        community=session.community,
        key=registration.queued_at.isoformat(),
    )
    return registration


@transaction.atomic
def cancel_registration(*, registration: Registration) -> Registration | None:
    """Give up a place (or a place in the queue). The first person waiting moves up and is
    told. Returns the registration that was promoted, if any."""
    session = (
        Session.objects.select_for_update()
        .select_related("community")
        .get(pk=registration.session_id)
    )
    refuse_if_archived(session.community)
    registration.refresh_from_db()
    if registration.status == Status.CANCELLED:
        return None
    if session.starts_at <= timezone.now():
        raise RegistrationError(
            _("This session has started, so places can no longer be cancelled.")
        )
    registration.status = Status.CANCELLED
    registration.save(update_fields=["status"])
    return _promote_waiting(session)


def _promote_waiting(session: Session) -> Registration | None:
    """Move the first person waiting into a free place, and tell them. Only for a published
    session that has not ended."""
    if (
        session.status != Session.Status.PUBLISHED
        or session.ends_at <= timezone.now()
        or not _has_room(session)
    ):
        return None
    promoted = (
        session.registrations.filter(status=Status.WAITING).order_by("queued_at", "pk").first()
    )
    if promoted is None:
        return None
    promoted.status = Status.REGISTERED
    promoted.save(update_fields=["status"])
    notify(
        recipients=[promoted.user],
        kind="waiting_list_promoted",
        about=promoted,
        community=session.community,
        key=timezone.now().isoformat(),
    )
    return promoted


# --- Reminders ------------------------------------------------------------------------------

MORNING_HOUR = 7
# The two reminders before a session: each a fan-out, keyed by its moment.
DAY_BEFORE_AUDIENCE = "session_reminder_day_before"
MORNING_AUDIENCE = "session_reminder_morning"
REMINDERS = {
    "day-before": (DAY_BEFORE_AUDIENCE, "tomorrow"),
    "morning": (MORNING_AUDIENCE, "today"),
}


def _reminded(session: Session):
    """Registrations that hear a reminder: places taken (not the waiting list), while the
    session is still on."""
    registered = Registration.objects.filter(session=session, status=Status.REGISTERED)
    if session.status != Session.Status.PUBLISHED:
        return registered.none()
    return registered


def day_before_audience(session: Session) -> Audience:
    """Everyone with a place who registered more than a day before the start (anyone later
    has just had a confirmation)."""
    registered = _reminded(session).filter(created_at__lte=session.starts_at - timedelta(hours=24))
    return Audience(people=User.objects.filter(registrations__in=registered))


def morning_audience(session: Session) -> Audience:
    """Everyone with a place."""
    return Audience(people=User.objects.filter(registrations__in=_reminded(session)))


def send_session_reminders(*, now=None) -> int:
    """Start the reminders for sessions coming up: a day before, and from 07:00 (the
    session's time zone) on the day. Found by a query each time beat runs, never by
    far-ahead Celery ETAs. Beat only records each reminder's promise (a fan-out per session
    and moment); the worker writes to the people after commit, in batches. Once per session
    and moment however often beat runs, or if two runs overlap: returns how many reminders
    this run started."""
    now = now or timezone.now()
    # An archived community's record keeps its sessions, but nobody is called to them.
    soon = changeable(
        Session.objects.filter(
            status=Session.Status.PUBLISHED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=24),
        ).select_related("community")
    )
    started = 0
    for session in soon:
        moments = ["day-before"]
        local_now = now.astimezone(session.zone)
        local_start = session.starts_at.astimezone(session.zone)
        if local_now.date() == local_start.date() and local_now.hour >= MORNING_HOUR:
            moments.append("morning")
        for moment in moments:
            audience, when = REMINDERS[moment]
            with transaction.atomic():
                started += start(
                    kind="session_reminder",
                    audience=audience,
                    about=session,
                    community=session.community,
                    context={"when": when},
                    key=moment,
                ).just_started
    return started


# --- Running sessions (coordinators and partners) ---------------------------------------------

CHANGES_WORTH_TELLING = {"starts_at", "ends_at", "venue", "online_link"}


def people_expected(session: Session):
    """Everyone registered for a session or waiting for a place: who hears of a change."""
    return User.objects.filter(
        registrations__session=session,
        registrations__status__in=[Status.REGISTERED, Status.WAITING],
    )


def session_audience(session: Session) -> Audience:
    return Audience(people=people_expected(session))


@transaction.atomic
def save_session(*, session: Session, changed: Iterable[str]) -> Session:
    """Create or change a session. People registered or waiting are told when a published
    session's time, place or link changes. More places move the waiting list up, in order;
    fewer places than people registered are refused (checked with the session locked)."""
    refuse_if_archived(session.community)
    creating = session.pk is None
    changed = set(changed)
    if not creating and "capacity" in changed:
        Session.objects.select_for_update().get(pk=session.pk)
        taken = _taken(session)
        if session.capacity is not None and session.capacity < taken:
            raise RegistrationError(
                {
                    "capacity": _(
                        "%(taken)d people already have a place. Keep at least that many places."
                    )
                    % {"taken": taken}
                }
            )
    session.save()
    if not creating and "capacity" in changed:
        while _promote_waiting(session):
            pass
    worth_telling = CHANGES_WORTH_TELLING & changed
    if not creating and worth_telling and session.status == Session.Status.PUBLISHED:
        # Written by the worker after commit, in batches (members.fanout).
        start(
            kind="session_changed",
            audience=SESSION_AUDIENCE,
            about=session,
            community=session.community,
            key=f"changed-{session.updated_at.isoformat()}",
        )
    return session


@transaction.atomic
def publish_session(*, session: Session) -> None:
    refuse_if_archived(session.community)
    session.set_status(Session.Status.PUBLISHED, by=None)


@transaction.atomic
def cancel_session(*, session: Session) -> None:
    """Cancel, and promise to tell everyone registered or waiting: the worker writes to them
    after commit, in batches (members.fanout)."""
    refuse_if_archived(session.community)
    session.set_status(Session.Status.CANCELLED, by=None)
    start(
        kind="session_cancelled",
        audience=SESSION_AUDIENCE,
        about=session,
        community=session.community,
    )


@transaction.atomic
def copy_session(*, session: Session) -> Session:
    """A draft with the same details, for the next time; facilitators come along too."""
    refuse_if_archived(session.community)
    facilitators = list(session.facilitators.all())
    copy = Session.objects.get(pk=session.pk)
    copy.pk = None
    copy.status = Session.Status.DRAFT
    copy.title = _("%(title)s (copy)") % {"title": session.title}
    copy.walk_in_count, copy.walk_in_perspectives, copy.attendance_notes = 0, [], ""
    copy.save()
    copy.facilitators.set(facilitators)
    return copy


@transaction.atomic
def record_attendance(
    *,
    session: Session,
    came: Iterable[int],
    walk_in_count: int,
    walk_in_perspectives: Iterable[str],
    attendance_notes: str,
    completed: bool,
) -> None:
    """Who came and who did not, walk-ins counted (not named), and optionally completed.
    Only once the session has started."""
    refuse_if_archived(session.community)
    if session.starts_at > timezone.now():
        raise RegistrationError(_("Attendance can be recorded once the session has started."))
    came = {int(pk) for pk in came}
    registered = session.registrations.filter(status=Status.REGISTERED)
    registered.filter(pk__in=came).update(attended=True)
    registered.exclude(pk__in=came).update(attended=False)
    revisions.updated(Registration, session=session)  # no signals from update()
    session.walk_in_count = walk_in_count
    session.walk_in_perspectives = sorted(set(walk_in_perspectives))
    session.attendance_notes = attendance_notes
    session.save(
        update_fields=["walk_in_count", "walk_in_perspectives", "attendance_notes", "updated_at"]
    )
    if completed and session.status == Session.Status.PUBLISHED:
        session.set_status(Session.Status.COMPLETED, by=None)


@transaction.atomic
def save_venue(*, community, form) -> Venue:
    """Add a place the community meets, or change one (the form carries the venue)."""
    refuse_if_archived(community)
    return form.save()


@transaction.atomic
def add_key_point(*, session: Session, text: str, by: User) -> KeyPoint:
    """Something heard at a session, noted by whoever runs it."""
    refuse_if_archived(session.community)
    return KeyPoint.objects.create(session=session, text=text, created_by=by)


@transaction.atomic
def remove_key_point(*, key_point: KeyPoint) -> None:
    refuse_if_archived(key_point.session.community)
    key_point.delete()


# --- Survey answers -------------------------------------------------------------------------


class SurveyError(ValidationError):
    """An answer that cannot be taken, with a reason to show."""


@transaction.atomic
def save_response(*, survey, user, answers, anonymous: bool = False, paper: dict | None = None):
    """Record answers. A member answers once and may change their answers until the survey
    closes; an anonymous or public answer is kept without a name. `paper` records answers
    collected on paper, entered by `user` on someone's behalf (even after closing: the paper
    was filled in while it was open)."""
    from engagement.models import Response

    refuse_if_archived(survey.community)
    if paper is not None:
        if not paper.get("contact_by"):
            paper = {**paper, "contact_details": ""}  # keep nothing they did not agree to
        response = Response.objects.create(survey=survey, entered_by=user, **paper)
        _save_answers(response, answers)
        return response
    from engagement.models import Participation

    if not survey.is_open():
        raise SurveyError(_("This survey is closed."))
    if not may_answer(user, survey):
        raise SurveyError(_("This survey is for members of the community."))
    named = user.is_authenticated and not (anonymous and survey.allow_anonymous)
    if user.is_authenticated:
        _participation, first_time = Participation.objects.get_or_create(survey=survey, user=user)
        mine = Response.objects.select_for_update().filter(survey=survey, user=user).first()
        if not first_time and mine is None:
            # They answered without their name: nothing links those answers to them, so
            # they cannot be changed, and a second set would count them twice.
            raise SurveyError(
                _("You have already answered without your name, so your answers cannot be changed.")
            )
        if not named and mine is not None:
            mine.delete()  # switching to no name: the named copy goes
    if named:
        response, _created = Response.objects.select_for_update().get_or_create(
            survey=survey, user=user
        )
        response.answers.all().delete()
        response.save(update_fields=["updated_at"])
    else:
        response = Response.objects.create(survey=survey)
    _save_answers(response, answers)
    return response


def _save_answers(response, answers) -> None:
    from engagement.models import Answer, Question

    for question, value in answers:
        answer = Answer(response=response, question=question)
        if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            answer.save()
            answer.choices.set([int(v) for v in ([value] if isinstance(value, str) else value)])
            continue
        if question.kind == Question.Kind.RATING:
            answer.number = int(value)
        else:
            answer.text = value
        answer.save()


@transaction.atomic
def save_question(*, question, choices: list[str]):
    """Save a question and its choices. Once people have answered, its choices are kept
    as they are (changing them would change what people said)."""
    from engagement.models import Choice, Question

    refuse_if_archived(question.survey.community)
    if question.pk:
        stored = Question.objects.get(pk=question.pk)
        if stored.kind != question.kind and question.answers.exists():
            raise SurveyError(
                _("People have answered this question, so its kind of answer cannot change.")
            )
    question.save()
    if question.kind not in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        question.choices.all().delete()
        return question
    existing = [c.text for c in question.choices.all()]
    if existing == choices:
        return question
    if question.answers.exists():
        raise SurveyError(_("People have answered this question, so its choices cannot change."))
    question.choices.all().delete()
    Choice.objects.bulk_create(
        Choice(question=question, text=text, position=i) for i, text in enumerate(choices)
    )
    # bulk_create sends no signals: the survey's results change with its choices.
    revisions.bump(revisions.key(Survey.RESULTS_REVISION, question.survey_id))
    return question


@transaction.atomic
def save_survey(*, community, form) -> Survey:
    """Start a survey or change its details (the form carries the survey)."""
    refuse_if_archived(community)
    return form.save()


@transaction.atomic
def remove_question(*, question) -> None:
    """Take a question off a survey, unless people have answered it: what they said stays."""
    refuse_if_archived(question.survey.community)
    if question.answers.exists():
        raise SurveyError(_("People have answered this question, so it stays."))
    question.delete()


def survey_closing_audience(survey) -> Audience:
    """Members who chose to take part through surveys (the community's way of taking part
    that mentions surveys) and have not answered this one."""
    chose = Membership.objects.active().filter(
        community=survey.community, involvement__name__icontains="survey", user=OuterRef("pk")
    )
    return Audience(
        people=User.objects.filter(Exists(chose), erased_at__isnull=True).exclude(
            survey_participations__survey=survey
        )
    )


def send_survey_closing_reminders(*, now=None) -> int:
    """Remind members who chose to take part through surveys, and have not answered, that a
    survey closes within two days. Once per survey however often beat runs: returns how many
    surveys' reminders it started (the worker writes to the people after commit)."""
    from engagement.models import Survey

    now = now or timezone.now()
    closing = changeable(
        Survey.objects.filter(
            published=True,
            audience=Survey.Audience.MEMBERS,
            opens_at__lte=now,
            closes_at__gt=now,
            closes_at__lte=now + timedelta(days=2),
        ).select_related("community")
    )
    started = 0
    for survey in closing:
        with transaction.atomic():
            # Written by the worker after commit, in batches (members.fanout).
            started += start(
                kind="survey_closing",
                audience=SURVEY_CLOSING_AUDIENCE,
                about=survey,
                community=survey.community,
                key="closing",
            ).just_started
    return started
