"""Short lists a community's page shows from this app (the sessions coming up, the surveys
open now), kept in the computed cache per revision of the rows they come from and until the
clock moves them: the first listed session ends, a listed survey closes or the next one
opens. The data says when, so a kept list is never shown past it."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from communities.models import Community
from engagement import calendar
from engagement.models import Session, Survey
from members import revisions
from members.computed import computed, version_of

COMING_UP = 3
OPEN_SURVEYS = 10
# The revision key of a community's surveys: community-surveys:<pk>, raised by every write to
# them (followed in engagement.apps).
SURVEYS_REVISION = "community-surveys"


@dataclass
class ComingUp:
    """The sessions coming up, and a key naming exactly what they show (the revision they
    were read under and the moment the list moves on), to keep their rendering under."""

    sessions: list[Session]
    kept_as: str


def coming_up(community: Community, count: int = COMING_UP) -> ComingUp:
    """The next few published sessions, soonest first, kept per revision of the community's
    sessions and venues until the first of them ends."""
    (revision,) = revisions.read(revisions.key(calendar.REVISION, community.pk))
    version = version_of(community.pk, revision, count)

    def find() -> list[Session]:
        return list(
            Session.objects.filter(community=community, status=Session.Status.PUBLISHED)
            .upcoming()
            .select_related("venue")
            .only("title", "starts_at", "ends_at", "community_id", "venue__name")[:count]
        )

    def ends(found) -> datetime | None:
        return min((session.ends_at for session in found), default=None)

    sessions = computed("engagement-coming-up", version, find, until=ends)
    for session in sessions:
        session.community = community  # each link needs its slug: no query per session
    moves_on = ends(sessions)
    return ComingUp(sessions, version_of(version, moves_on.isoformat() if moves_on else ""))


def open_surveys(community: Community) -> list[Survey]:
    """The community's published surveys open now, first opened first, kept per revision of
    its surveys until one of them closes or the next one opens."""
    (revision,) = revisions.read(revisions.key(SURVEYS_REVISION, community.pk))

    def find() -> tuple[list[Survey], datetime | None]:
        # Not yet closed, first opened first: those open now come before any still to open,
        # so one row past the list is the next to open, if any could join it.
        now = timezone.now()
        rows = list(
            Survey.objects.published()
            .filter(community=community)
            .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
            .only("title", "audience", "opens_at", "closes_at", "community_id")
            .order_by("opens_at", "pk")[: OPEN_SURVEYS + 1]
        )
        found = [survey for survey in rows if survey.opens_at <= now][:OPEN_SURVEYS]
        next_opening = next((s.opens_at for s in rows if s.opens_at > now), None)
        return found, next_opening

    def ends(kept) -> datetime | None:
        found, next_opening = kept
        times = [survey.closes_at for survey in found if survey.closes_at] + [next_opening]
        return min(filter(None, times), default=None)

    surveys, _ = computed(
        "engagement-open-surveys", version_of(community.pk, revision), find, until=ends
    )
    for survey in surveys:
        survey.community = community  # for its address: save a query each
    return surveys
