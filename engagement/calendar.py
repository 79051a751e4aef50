"""Sessions as iCalendar (RFC 5545): one file per session, and a feed per community.

A community's feed holds what is coming and the last FEED_PAST_DAYS days, not its whole
history. It is built once per revision of its sessions and venues (and per day, as the window
moves) and kept in the computed cache, so a calendar app asking every few minutes costs one
small query."""

import hashlib
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from communities.models import Community
from engagement.models import Session
from members import revisions
from members.computed import computed, version_of

FEED_PAST_DAYS = 90
# The revision key of a community's feed: community-sessions:<pk>, raised by every write to
# its sessions and venues.
REVISION = "community-sessions"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Convene//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(session: Session, *, registered: bool) -> Event:
    event = Event()
    host = urlsplit(settings.SITE_URL).hostname or "convene"
    event.add("uid", f"session-{session.pk}@{host}")
    event.add("summary", session.title)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("dtstamp", session.updated_at)
    # Calendars apply a changed event over the old one when the sequence goes up.
    event.add("sequence", int(session.updated_at.timestamp()) // 60 % 2**31)
    event.add("url", settings.SITE_URL + session.get_absolute_url())
    if session.venue:
        event.add(
            "location",
            ", ".join(
                filter(None, [session.venue.name, session.venue.address.replace("\n", ", ")])
            ),
        )
    description = session.description
    if registered and session.online_link:
        # The joining link goes only to people who registered.
        description = f"{description}\n\nJoin online: {session.online_link}".strip()
        if not session.venue:
            event.add("location", session.online_link)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if session.status == Session.Status.CANCELLED else "CONFIRMED")
    return event


def session_ics(session: Session, *, registered: bool = False) -> bytes:
    calendar = _calendar(session.title)
    calendar.add_component(_event(session, registered=registered))
    return calendar.to_ical()


def _feed_since(now: datetime) -> datetime:
    """The start of the feed's window: midnight (UTC) FEED_PAST_DAYS days ago, so the window
    moves once a day."""
    return datetime.combine(now.date() - timedelta(days=FEED_PAST_DAYS), time.min, tzinfo=UTC)


def feed_sessions(community: Community, *, now: datetime | None = None):
    """The sessions a community's feed holds: every one not a draft that ends after the
    window's start, soonest first."""
    since = _feed_since(now or timezone.now())
    return (
        Session.objects.filter(community=community, ends_at__gte=since)
        .visible()
        .select_related("venue")
        .order_by("starts_at", "pk")
    )


def _build_feed(community: Community) -> bytes:
    calendar = _calendar(community.name)
    calendar.add(
        "x-wr-caldesc",
        _("Sessions of %(community)s: everything coming up, and the last %(days)s days.")
        % {"community": community.name, "days": FEED_PAST_DAYS},
    )
    for session in feed_sessions(community):
        session.community = community  # each event's address needs it: no query per session
        calendar.add_component(_event(session, registered=False))
    return calendar.to_ical()


def community_feed(community: Community) -> bytes:
    """The community's feed, built once per revision of its sessions and venues, per day
    and per language (and per name and address, which the feed shows). The revision is read
    first, before the sessions it is built from."""
    (revision,) = revisions.read(revisions.key(REVISION, community.pk))
    named = hashlib.sha256(f"{community.slug}\n{community.name}".encode()).hexdigest()[:16]
    version = version_of(
        community.pk,
        named,
        revision,
        _feed_since(timezone.now()).date().isoformat(),
        get_language(),
    )
    return computed("community-feed", version, lambda: _build_feed(community))
