"""Updates: writing "you said, we did" and telling everyone whose input it answers."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from improvement.models import IdeaEvent, Update, UpdateError
from improvement.services.ideas import _refuse_if_archived
from members.models import Notification, User
from members.outbox import notify, notify_address, notify_contact

__all__ = [
    "PublishResult",
    "audience_summary",
    "publish_update",
    "save_update",
    "send_overdue_reminders",
]


@dataclass
class PublishResult:
    """What publishing did: how many people it set out to tell, and whether this call was
    the one that published (publishing again tells nobody again)."""

    published: bool
    members: int = 0
    by_email: int = 0
    by_letter_or_phone: int = 0

    # People actually set to hear: those who turned these emails off are not counted.
    reached: int | None = None

    @property
    def told(self) -> int:
        if self.reached is not None:
            return self.reached
        return self.members + self.by_email + self.by_letter_or_phone


def audience_summary(update: Update) -> dict:
    """How many people publishing would tell, for the coordinator to see first."""
    audience = update.audience()
    by_email = [c for c in audience.on_behalf if _usable_email(c)]
    members = audience.members.count()
    return {
        "members": members,
        "by_email": len(by_email),
        "by_letter_or_phone": len(audience.on_behalf) - len(by_email),
        "total": members + len(audience.on_behalf),
    }


def _usable_email(contact) -> bool:
    """A paper contact who chose email and gave an address that works as one; anyone else
    goes on the letters-and-calls list."""
    if contact.contact_by != "email":
        return False
    try:
        validate_email(contact.contact_details)
    except ValidationError:
        return False
    return True


@transaction.atomic
def save_update(*, form, by: User) -> Update:
    """Save a draft update from its form. Published updates are the record: they do not
    change."""
    update = form.instance
    _refuse_if_archived(update.community)
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
    """Publish an update and tell everyone whose input it answers, each person once, by the
    way they chose: members through the outbox (email now or in a digest, or a letter or call
    if they asked); people entered from paper by email, or on the letters-and-calls list.
    Idempotent: publishing again, or twice at once, publishes once and tells nobody twice.
    Delivery happens after commit, so a broker that is down does not hold up the page; the
    outbox sweep sends what is waiting when it returns."""
    _refuse_if_archived(update.community)
    _check_ready(update)
    now = timezone.now()
    claimed = Update.objects.filter(pk=update.pk, status=Update.Status.DRAFT).update(
        status=Update.Status.PUBLISHED, published_at=now, published_by=by
    )
    if not claimed:
        return PublishResult(published=False)
    update.refresh_from_db()
    audience = update.audience()
    community = update.community
    result = PublishResult(published=True)
    # Someone entered from paper whose email is a member's address hears once, as the member.
    member_emails = {e.lower() for e in audience.members.values_list("email", flat=True)}
    audience.on_behalf = [
        c for c in audience.on_behalf
        if not (_usable_email(c) and c.contact_details.lower() in member_emails)
    ]  # fmt: skip
    result.members = notify(
        recipients=list(audience.members),
        kind="update_published",
        about=update,
        community=community,
    )
    for contact in audience.on_behalf:
        if _usable_email(contact):
            result.by_email += notify_address(
                email=contact.contact_details,
                kind="update_published",
                about=update,
                community=community,
                context={"name": contact.name},
            )
        else:
            # Post or phone, or an email address that does not work as one: a coordinator
            # writes or calls, from the letters-and-calls list.
            channel = "phone" if contact.contact_by == "phone" else "post"
            result.by_letter_or_phone += notify_contact(
                name=contact.name, channel=channel, details=contact.contact_details,
                kind="update_published", about=update, community=community,
            )  # fmt: skip
    IdeaEvent.objects.bulk_create(
        IdeaEvent(
            idea=idea,
            kind=IdeaEvent.Kind.UPDATED,
            actor=by,
            at=now,
            status=idea.status,
            note=update.title,
        )  # fmt: skip
        for idea in update.ideas.all()
    )
    # People who turned these emails off, or have no address we can use, are not counted as
    # told (their rows are kept, skipped, for the record).
    told = Notification.objects.filter(
        kind="update_published",
        about_type=ContentType.objects.get_for_model(Update),
        about_id=str(update.pk),
    ).exclude(state=Notification.State.SKIPPED)
    update.told_count = told.count()
    Update.objects.filter(pk=update.pk).update(told_count=update.told_count)
    result.reached = update.told_count
    return result


OVERDUE_LISTED = 25


def send_overdue_reminders(*, now=None) -> int:
    """Tell each community's coordinators which inputs have waited longer than the promise,
    oldest first. Once a week: the ISO week is part of each row's key, so running again in
    the same week writes nothing new. Communities with nothing overdue send nothing."""
    from communities.models import Community
    from improvement import loop

    now = now or timezone.now()
    year, week, _day = now.isocalendar()
    written = 0
    for community in Community.objects.exclude(status=Community.Status.ARCHIVED):
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
