"""Updates: writing "you said, we did" and telling everyone whose input it answers."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.access import changeable, refuse_if_archived
from improvement import loop
from improvement.models import IdeaEvent, Update, UpdateError
from members.fanout import Audience, Contact, progress, start
from members.models import FanOut, User
from members.outbox import notify

__all__ = [
    "PublishResult",
    "audience_summary",
    "publish_update",
    "publishing_progress",
    "still_telling",
    "record_told",
    "update_audience",
    "save_update",
    "send_overdue_reminders",
]


@dataclass
class PublishResult:
    """What publishing did: whether this call was the one that published (publishing again
    tells nobody again), and the fan-out that is telling everyone, in the worker."""

    published: bool
    fan_out: FanOut | None = None


AUDIENCE = "update"
# The notification an update sends to everyone whose input it answers.
KIND = "update_published"


def update_audience(update: Update) -> Audience:
    """Everyone an update tells: its contributors with accounts, and people entered from
    paper who agreed to be contacted (see `Update.audience`)."""
    found = update.audience()
    return Audience(
        people=found.members,
        contacts=[Contact(c.name, c.contact_by, c.contact_details) for c in found.on_behalf],
    )


def record_told(fan_out: FanOut, update: Update) -> None:
    """When everyone is written to: how many people the update set out to tell. People who
    turned these emails off, or have no address we can use, are not counted (their rows are
    kept, skipped, for the record)."""
    told = progress(kind=fan_out.kind, about=update)
    Update.objects.filter(pk=update.pk).update(told_count=told.told if told else 0)


def audience_summary(update: Update) -> dict:
    """How many people publishing would tell, for the coordinator to see first."""
    audience = update_audience(update)
    by_email = sum(1 for c in audience.contacts if c.email)
    members = audience.people.count()
    return {
        "members": members,
        "by_email": by_email,
        "by_letter_or_phone": len(audience.contacts) - by_email,
        "total": members + len(audience.contacts),
    }


@transaction.atomic
def save_update(*, form, by: User) -> Update:
    """Save a draft update from its form. Published updates are the record: they do not
    change."""
    update = form.instance
    refuse_if_archived(update.community)
    # Lock the row: a publish in another request either finished first (and is seen here) or
    # waits until this save is done.
    if update.pk and Update.objects.select_for_update().filter(pk=update.pk).published().exists():
        raise UpdateError(_("This update is published, so it stays as it was sent."))
    if update.created_by_id is None:
        update.created_by = by
    return form.save()


def _check_ready(update: Update) -> None:
    if not (update.title.strip() and update.what_we_heard.strip() and update.what_we_did.strip()):
        raise UpdateError(_("Write a headline, what we heard and what we did before publishing."))
    if not (update.ideas.exists() or update.sessions.exists() or update.surveys.exists()):
        raise UpdateError(
            _("Choose at least one idea, session or survey, so we know whose input it answers.")
        )


@transaction.atomic
def publish_update(*, update: Update, by: User) -> PublishResult:
    """Publish an update and promise to tell everyone whose input it answers, each person
    once, the way they chose: members through the outbox (email now or in a digest, or a
    letter or call if they asked); people entered from paper by email, or on the
    letters-and-calls list. The request only records the promise (a fan-out, committed with
    the publishing); the worker writes everyone's outbox rows in batches after commit, so
    publishing to ten thousand people returns at once, and the update's page shows how far
    it has got. Idempotent: publishing again, or twice at once, publishes once and tells
    nobody twice."""
    refuse_if_archived(update.community)
    _check_ready(update)
    now = timezone.now()
    claimed = Update.objects.filter(pk=update.pk, status=Update.Status.DRAFT).update(
        status=Update.Status.PUBLISHED, published_at=now, published_by=by
    )
    if not claimed:
        return PublishResult(published=False)
    loop.changed(update.community)  # the update now answers what it links to
    update.refresh_from_db()
    fan_out = start(
        kind=KIND,
        audience=AUDIENCE,
        about=update,
        community=update.community,
        by=by,
    )
    IdeaEvent.objects.bulk_create(
        IdeaEvent(
            idea=idea,
            kind=IdeaEvent.Kind.UPDATED,
            actor=by,
            at=now,
            status=idea.status,
            note=update.title,
        )
        for idea in update.ideas.all()
    )
    return PublishResult(published=True, fan_out=fan_out)


def still_telling():
    """An annotation for a QuerySet of updates: True while the worker is still writing to
    the people an update tells."""
    return Exists(
        FanOut.objects.filter(
            kind=KIND,
            about_type=ContentType.objects.get_for_model(Update),
            about_id=Cast(OuterRef("pk"), CharField()),
            state=FanOut.State.WRITING,
        )
    )


def publishing_progress(update: Update):
    """How far telling everyone about a published update has got (None for a draft)."""
    if not update.is_published:
        return None
    return progress(kind=KIND, about=update)


OVERDUE_LISTED = 25


def send_overdue_reminders(*, now=None) -> int:
    """Tell each community's coordinators which inputs have waited longer than the promise,
    oldest first. Once a week: the ISO week is part of each row's key, so running again in
    the same week writes nothing new. Communities with nothing overdue send nothing."""
    from communities.models import Community

    now = now or timezone.now()
    year, week, _day = now.isocalendar()
    written = 0
    for community in changeable(Community.objects.all(), path=""):
        result = loop.figures(community, now=now, listed=OVERDUE_LISTED)
        if not result.overdue_count:
            continue
        items = [
            {
                "kind": item.kind_label,
                "title": item.title,
                "days": item.days_waiting(now),
                "link": loop.act_link(community, item),
            }
            for item in result.overdue
        ]
        with transaction.atomic():
            written += notify(
                recipients=community.coordinator_people(),
                kind="overdue_inputs",
                about=community,
                community=community,
                key=f"{year}-W{week:02d}",
                context={
                    "items": items,
                    "count": result.overdue_count,
                    "promise": community.update_promise_days,
                },
            )
    return written
