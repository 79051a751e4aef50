from django.utils import timezone

from members.models import Heartbeat


def record_heartbeat(*, name: str) -> Heartbeat:
    """Set the named heartbeat to now, creating it the first time."""
    heartbeat, _ = Heartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now()}
    )
    return heartbeat
