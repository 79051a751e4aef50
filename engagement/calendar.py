"""Sessions as iCalendar (RFC 5545): one file per session, and a feed per community."""

from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event

from engagement.models import Session


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


def community_feed(community, sessions) -> bytes:
    calendar = _calendar(community.name)
    for session in sessions:
        calendar.add_component(_event(session, registered=False))
    return calendar.to_ical()
