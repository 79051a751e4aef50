"""What one person gave, and the updates that answered it, for "what happened to my input".

Every input is one row of a UNION ordered and paged in SQL: an idea they added, an idea they
supported, an idea they discussed (dated by their last comment), a survey they answered (dated
by when it closed, or opened: answers keep no date of their own) and a session they came to.
Only the rows on the page shown are then filled in: their titles, statuses and links, and the
published updates that answered them, in a fixed number of queries however much they gave.

An update answers an idea when it is about the idea, the idea it was merged into, or another
idea merged into that one. It answers a survey answer when it is about the survey or about an
idea made from the person's own answers; a session when it is about the session or about an
idea heard there.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import models
from django.db.models import F, Max, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagement.models import Participation, Registration, Session, Survey
from improvement.models import Comment, Idea, Support, Update

IDEA, SUPPORT, COMMENT, SURVEY, SESSION = range(5)
KINDS = {IDEA: "idea", SUPPORT: "support", COMMENT: "comment", SURVEY: "survey", SESSION: "session"}
KIND_LABELS = {
    "idea": gettext_lazy("Your idea"),
    "support": gettext_lazy("You supported"),
    "comment": gettext_lazy("You discussed"),
    "survey": gettext_lazy("You answered"),
    "session": gettext_lazy("You came to"),
}
# A guard for an input without a date: it sorts last. (A survey answer is dated by its
# survey, which always has an opening date.)
NEVER = datetime.min.replace(tzinfo=UTC)


def _row(queryset, kind: int, *, ref, when, tie):
    """One kind of input as (kind, what it is about, when, a tie-breaker): the same columns in
    the same order for every kind, so the kinds can be joined in one UNION."""
    return queryset.order_by().values(
        kind=Value(kind, output_field=models.IntegerField()),
        ref=ref,
        when=Coalesce(when, Value(NEVER), output_field=models.DateTimeField()),
        tie=tie,
    )


def inputs_of(user):
    """Every input `user` gave, newest first, as one UNION queryset of narrow rows; slice it
    (or page it) to read only the rows shown. At the same moment: ideas, then supports,
    comments, survey answers and sessions, each kind newest record first."""
    ideas = _row(
        Idea.objects.filter(author=user), IDEA, ref=F("pk"), when=F("created_at"), tie=F("pk")
    )
    supports = _row(
        Support.objects.filter(user=user),
        SUPPORT,
        ref=F("idea_id"),
        when=F("created_at"),
        tie=F("pk"),
    )
    # One row per idea discussed, however many comments: grouped by the idea.
    comments = _row(
        Comment.objects.filter(author=user).values("idea_id"),
        COMMENT,
        ref=F("idea_id"),
        when=Max("created_at"),
        tie=F("idea_id"),
    )
    surveys = _row(
        Participation.objects.filter(user=user),
        SURVEY,
        ref=F("survey_id"),
        when=Coalesce("survey__closes_at", "survey__opens_at"),
        tie=F("pk"),
    )
    sessions = _row(
        Registration.objects.filter(user=user, attended=True),
        SESSION,
        ref=F("session_id"),
        when=F("session__starts_at"),
        tie=F("pk"),
    )
    return ideas.union(supports, comments, surveys, sessions, all=True).order_by(
        "-when", "kind", "-tie"
    )


@dataclass
class Dates:
    """Dates as "j F Y" in the current time zone, like the `date` filter, with the month
    names translated once per page rather than once per date."""

    months: dict

    @classmethod
    def now(cls):
        return cls({number: str(name) for number, name in MONTHS.items()})

    def __call__(self, value) -> str:
        if value is None or value == NEVER:
            return ""
        local = timezone.localtime(value)
        return f"{local.day} {self.months[local.month]} {local.year}"


def _published_updates(through, field: str, ids, day) -> dict[int, list[Update]]:
    """Published updates about each of `ids` (ideas, surveys or sessions), newest first."""
    found = defaultdict(list)
    if not ids:
        return found
    rows = (
        through.objects.filter(**{f"{field}__in": ids}, update__status=Update.Status.PUBLISHED)
        .select_related("update__community")
        .order_by("-update__published_at", "-update_id")
    )
    for row in rows:
        row.update.day = day(row.update.published_at)
        found[getattr(row, f"{field}_id")].append(row.update)
    return found


def updates_about(roots: set[int], day=None) -> dict[int, list[Update]]:
    """Published updates for each idea in `roots` (ideas that were not merged): those about
    it and about every idea merged into it. Newest first, each update once. One query, from
    the ideas' own indexes, however many ideas the community has."""
    found = defaultdict(dict)
    if not roots:
        return {}
    group = Idea.objects.filter(pk__in=list(roots)).with_merged()
    rows = (
        Update.ideas.through.objects.filter(
            idea__in=group.values("pk"), update__status=Update.Status.PUBLISHED
        )
        .annotate(root=Coalesce("idea__merged_into_id", "idea_id"))
        .select_related("update__community")
        .order_by("-update__published_at", "-update_id")
    )
    for row in rows:
        if day is not None:
            row.update.day = day(row.update.published_at)
        found[row.root].setdefault(row.update.pk, row.update)
    return {root: list(updates.values()) for root, updates in found.items()}


def _made_from(user, surveys, sessions) -> list[tuple]:
    """Ideas made from `user`'s own answers to these surveys, or heard at these sessions:
    (pk, the idea it was merged into, survey, session, made from their answer)."""
    fields = ("pk", "merged_into_id", "survey_id", "session_id")
    mine = Idea.objects.filter(
        survey_response__user=user, survey_response__survey__in=surveys, survey__in=surveys
    )
    heard = Idea.objects.filter(session__in=sessions)
    return list(
        mine.order_by()
        .values_list(*fields, Value(True))
        .union(heard.order_by().values_list(*fields, Value(False)), all=True)
    )


def _newest_first(updates) -> list[Update]:
    unique = {update.pk: update for update in updates}
    return sorted(unique.values(), key=lambda u: u.published_at, reverse=True)


def fill(user, rows) -> list[dict]:
    """The page's rows as the items shown: what each input was, where it stands now, and
    the updates that answered it. A fixed number of queries, whatever the page holds."""
    day = Dates.now()
    refs = defaultdict(set)
    for row in rows:
        refs[row["kind"]].add(row["ref"])
    idea_ids = refs[IDEA] | refs[SUPPORT] | refs[COMMENT]
    ideas = (
        {
            idea.pk: idea
            for idea in Idea.objects.filter(pk__in=idea_ids).select_related(
                "community", "merged_into__community"
            )
        }
        if idea_ids
        else {}
    )
    surveys = Survey.objects.filter(pk__in=refs[SURVEY]).select_related("community")
    surveys = {s.pk: s for s in surveys} if refs[SURVEY] else {}
    sessions = Session.objects.filter(pk__in=refs[SESSION]).select_related("community")
    sessions = {s.pk: s for s in sessions} if refs[SESSION] else {}
    made_from = _made_from(user, list(surveys), list(sessions)) if surveys or sessions else []

    def root(pk, merged_into):
        return merged_into or pk

    roots = {root(i.pk, i.merged_into_id) for i in ideas.values()}
    roots |= {root(pk, merged_into) for pk, merged_into, *_rest in made_from}
    idea_updates = updates_about(roots, day)
    survey_updates = _published_updates(Update.surveys.through, "survey", list(surveys), day)
    session_updates = _published_updates(Update.sessions.through, "session", list(sessions), day)
    for pk, merged_into, survey, session, from_answer in made_from:
        answered = idea_updates.get(root(pk, merged_into), [])
        if from_answer and survey:
            survey_updates[survey].extend(answered)
        if session and not from_answer:
            session_updates[session].extend(answered)

    labels = {kind: str(label) for kind, label in KIND_LABELS.items()}
    statuses = {value: str(label) for value, label in Idea.Status.choices}
    merged = _("Merged into “%(title)s”: %(status)s")
    open_closed = {True: _("Open"), False: _("Closed")}
    held = _("Held")
    now = timezone.now()
    items = []
    found = {IDEA: ideas, SUPPORT: ideas, COMMENT: ideas, SURVEY: surveys, SESSION: sessions}
    for row in rows:
        kind, ref, when = KINDS[row["kind"]], row["ref"], row["when"]
        if ref not in found[row["kind"]]:
            continue  # deleted since the page was counted
        if row["kind"] in (IDEA, SUPPORT, COMMENT):
            idea = ideas[ref]
            target = idea.merged_into or idea
            status = statuses[idea.status]
            if idea.merged_into_id:
                status = merged % {"title": target.title, "status": statuses[target.status]}
            item = (
                idea.title,
                target.get_absolute_url(),
                status,
                idea.community,
                idea_updates.get(root(idea.pk, idea.merged_into_id), []),
            )
        elif row["kind"] == SURVEY:
            survey = surveys[ref]
            item = (
                survey.title,
                survey.get_absolute_url(),
                open_closed[survey.is_open(now)],
                survey.community,
                _newest_first(survey_updates.get(ref, [])),
            )
        else:
            session = sessions[ref]
            item = (
                session.title,
                session.get_absolute_url(),
                held,
                session.community,
                _newest_first(session_updates.get(ref, [])),
            )
        title, link, status, community, updates = item
        items.append(
            {
                "kind": kind,
                "label": labels[kind],
                "title": title,
                "link": link,
                "when": None if when == NEVER else when,
                "day": day(when),
                "status": status,
                "updates": updates,
                "community": community,
            }
        )
    return items
