from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from members import personal_data
from members.models import (
    Delivery,
    EqualityMonitoring,
    Heartbeat,
    Notification,
    NotificationGroup,
    User,
)


def record_heartbeat(*, name: str) -> Heartbeat:
    """Set the named heartbeat to now, creating it the first time."""
    heartbeat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now()}
    )
    return heartbeat


@transaction.atomic
def record_equality_monitoring(*, user: User, answers: dict) -> EqualityMonitoring:
    """Keep the person's equality monitoring answers, and when they consented to it.

    Called only once the person has ticked the consent box: the time is that consent.
    """
    monitoring, _ = EqualityMonitoring.objects.update_or_create(
        user=user, defaults={**answers, "consented_at": timezone.now()}
    )
    return monitoring


@transaction.atomic
def withdraw_equality_consent(*, user: User) -> bool:
    """Delete the person's equality monitoring answers entirely. True if there were any."""
    deleted, _ = EqualityMonitoring.objects.filter(user=user).delete()
    return bool(deleted)


@transaction.atomic
def erase_person(*, user: User) -> None:
    """Erase a person who deleted their account. Atomic: all of it happens, or none.

    Every registered personal data section erases its own rows first. Then the person's row
    is kept, so what they gave still points at it, but emptied: a placeholder address, no
    name, pronouns or access needs, no emails, no password, inactive and no longer staff. It
    shows as "a former member". Their email addresses, equality monitoring answers and every
    signed-in session are deleted.
    """
    for section in personal_data.sections():
        if section.erase is not None:
            section.erase(user)

    user.email = f"former-member-{user.pk}@invalid.invalid"
    user.name = user.pronouns = user.access_needs = ""
    user.phone = user.postal_address = ""
    for group in NotificationGroup.values:
        setattr(user, f"{group}_delivery", Delivery.NEVER)
    user.is_active = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.last_login = None
    user.erased_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()

    Notification.objects.filter(
        recipient=user, state__in=[Notification.State.PENDING, Notification.State.SENDING]
    ).update(
        state=Notification.State.SKIPPED, last_error="The person deleted their account.", claim=""
    )
    EmailAddress.objects.filter(user=user).delete()
    EqualityMonitoring.objects.filter(user=user).delete()
    _delete_sessions(user)


def _delete_sessions(user: User) -> None:
    # Sessions are stored without a column for their person, so each live one is decoded.
    # Erasure is rare and the scan reads only unexpired sessions, a batch at a time.
    user_id = str(user.pk)
    theirs = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if session.get_decoded().get("_auth_user_id") == user_id:
            theirs.append(session.pk)
    Session.objects.filter(pk__in=theirs).delete()


@transaction.atomic
def set_delivery(*, user: User, group: str, delivery: str) -> None:
    """Change how one group of notifications reaches the person. Turning a group off also
    skips what was waiting to be sent for it."""
    setattr(user, f"{group}_delivery", delivery)
    user.save(update_fields=[f"{group}_delivery"])
    waiting = Notification.objects.filter(
        recipient=user, group=group, state=Notification.State.PENDING
    )
    if delivery == Delivery.NEVER:
        waiting.update(
            state=Notification.State.SKIPPED, last_error="Turned off by the person.", claim=""
        )
    else:
        waiting.update(delivery=delivery, next_attempt_at=timezone.now())
