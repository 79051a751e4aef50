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

The page's statements are written out here in SQL, each reading through an index: built by
the ORM on every view of the page they cost several times more to build than to run.
"""

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from django.db import connection, models
from django.db.models import Value
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communities.models import Community
from engagement.models import Participation, Registration, Response, Session, Survey
from improvement.models import Comment, Idea, Support, Update
from improvement.models.ideas import standing_idea_of, standing_idea_sql

IDEA, SUPPORT, COMMENT, SURVEY, SESSION = range(5)
KINDS = {IDEA: "idea", SUPPORT: "support", COMMENT: "comment", SURVEY: "survey", SESSION: "session"}
KIND_LABELS = {
    "idea": gettext_lazy("Your idea"),
    "support": gettext_lazy("You supported"),
    "comment": gettext_lazy("You discussed"),
    "survey": gettext_lazy("You answered"),
    "session": gettext_lazy("You came to"),
}


@functools.cache
def _table() -> SimpleNamespace:
    """The tables the statements read, by the models' own names for them."""
    models_ = {
        "idea": Idea,
        "support": Support,
        "comment": Comment,
        "participation": Participation,
        "survey": Survey,
        "registration": Registration,
        "session": Session,
        "response": Response,
        "community": Community,
        "update": Update,
        "update_ideas": Update.ideas.through,
        "update_surveys": Update.surveys.through,
        "update_sessions": Update.sessions.through,
    }
    return SimpleNamespace(**{name: model._meta.db_table for name, model in models_.items()})


def _rows(statement: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _marks(values) -> str:
    """One placeholder per value, for `IN (…)`."""
    return ", ".join(["%s"] * len(values))


def _datetimes():
    """Reads a datetime column as the ORM would: SQLite hands dates back as text."""
    expression = Value(None, output_field=models.DateTimeField())
    converters = connection.ops.get_db_converters(expression)

    def read(value):
        for convert in converters:
            value = convert(value, expression, connection)
        return value

    return read


@functools.cache
def _statements() -> tuple[str, str]:
    """How many inputs a person gave, and a window of them newest first. Each part reads the
    person's rows through its own index; each takes the person's id, and the sessions part
    also whether they came."""
    t = _table()
    # (kind, what it is about, when, a tie-breaker): the same columns for every kind. A
    # discussion is one row per idea, dated by the person's last comment on it; a survey
    # answer is dated by when the survey closed, or opened (answers keep no date of their
    # own); a session by when it started.
    parts = [
        f"SELECT {IDEA} AS kind, id AS ref, created_at AS given, id AS tie"
        f" FROM {t.idea} WHERE author_id = %s",
        f"SELECT {SUPPORT}, idea_id, created_at, id FROM {t.support} WHERE user_id = %s",
        f"SELECT {COMMENT}, idea_id, MAX(created_at), idea_id"
        f" FROM {t.comment} WHERE author_id = %s GROUP BY idea_id",
        f"SELECT {SURVEY}, p.survey_id, COALESCE(s.closes_at, s.opens_at), p.id"
        f" FROM {t.participation} p JOIN {t.survey} s ON s.id = p.survey_id"
        " WHERE p.user_id = %s",
        f"SELECT {SESSION}, r.session_id, s.starts_at, r.id"
        f" FROM {t.registration} r JOIN {t.session} s ON s.id = r.session_id"
        " WHERE r.user_id = %s AND r.attended = %s",
    ]
    window = (
        f"SELECT kind, ref, given FROM ({' UNION ALL '.join(parts)}) inputs"
        " ORDER BY given DESC, kind, tie DESC LIMIT %s OFFSET %s"
    )
    counts = [
        f"SELECT COUNT(*) FROM {t.idea} WHERE author_id = %s",
        f"SELECT COUNT(*) FROM {t.support} WHERE user_id = %s",
        f"SELECT COUNT(DISTINCT idea_id) FROM {t.comment} WHERE author_id = %s",
        f"SELECT COUNT(*) FROM {t.participation} WHERE user_id = %s",
        f"SELECT COUNT(*) FROM {t.registration} WHERE user_id = %s AND attended = %s",
    ]
    count = "SELECT " + " + ".join(f"({part})" for part in counts)
    return count, window


class Inputs:
    """Every input one person gave, newest first, to be paged: counted, ordered and cut in
    SQL, so only the rows shown are read. At the same moment: ideas, then supports,
    comments, survey answers and sessions, each kind newest record first. Each row is
    {"kind", "ref", "when"}."""

    def __init__(self, user):
        self.params = [user.pk] * 5 + [True]

    def count(self) -> int:
        count, _window = _statements()
        return _rows(count, self.params)[0][0]

    def __getitem__(self, window: slice) -> list[dict]:
        _count, statement = _statements()
        start, stop = window.start or 0, window.stop
        read = _datetimes()
        rows = _rows(statement, [*self.params, stop - start, start])
        return [{"kind": kind, "ref": ref, "when": read(given)} for kind, ref, given in rows]


@dataclass
class Dates:
    """Dates as "j F Y" in the current time zone, like the `date` filter, with the month
    names translated once per page rather than once per date."""

    months: dict

    @classmethod
    def now(cls):
        return cls({number: str(name) for number, name in MONTHS.items()})

    def __call__(self, value) -> str:
        if value is None:
            return ""
        local = timezone.localtime(value)
        return f"{local.day} {self.months[local.month]} {local.year}"


def updates_about(idea_pks: Iterable[int]) -> list[Update]:
    """Published updates about any of these ideas (an idea and the ideas merged into it),
    newest first, each once, with what a list of them shows: title, date, what we did and the
    link. One query, through the index of the updates' links to ideas."""
    links = Update.ideas.through.objects.filter(idea__in=list(idea_pks)).values("update")
    return list(
        Update.objects.filter(status=Update.Status.PUBLISHED, pk__in=links)
        .select_related("community")
        .only("pk", "title", "published_at", "what_we_did", "community__slug")
        .order_by("-published_at", "-pk")
    )


@dataclass(frozen=True)
class Answer:
    """A published update that answered an input, as "what happened to my input" shows it."""

    pk: int
    title: str
    published_at: datetime
    link: str
    day: str


def _read(refs: dict[int, set]) -> tuple[dict, dict, dict]:
    """What the page shows of the ideas, surveys and sessions its rows are about, one
    statement per kind (none for a kind the page does not hold): ideas as (title, status,
    the idea it was merged into, that idea's title and status, community name and slug),
    sessions as (title, community name and slug), surveys as (title, the survey with what
    says whether it is open, community name and slug)."""
    t = _table()
    ideas, surveys, sessions = {}, {}, {}
    if ids := list(refs[IDEA] | refs[SUPPORT] | refs[COMMENT]):
        found = _rows(
            "SELECT i.id, i.title, i.status, i.merged_into_id, m.title, m.status, c.name, c.slug"
            f" FROM {t.idea} i JOIN {t.community} c ON c.id = i.community_id"
            f" LEFT JOIN {t.idea} m ON m.id = i.merged_into_id WHERE i.id IN ({_marks(ids)})",
            ids,
        )
        ideas = {pk: rest for pk, *rest in found}
    if ids := list(refs[SURVEY]):
        read = _datetimes()
        found = _rows(
            "SELECT s.id, s.title, s.published, s.opens_at, s.closes_at, c.name, c.slug"
            f" FROM {t.survey} s JOIN {t.community} c ON c.id = s.community_id"
            f" WHERE s.id IN ({_marks(ids)})",
            ids,
        )
        for pk, title, published, opens_at, closes_at, name, slug in found:
            # Whether it is open is the survey's to say.
            survey = Survey(
                pk=pk, published=published, opens_at=read(opens_at), closes_at=read(closes_at)
            )
            surveys[pk] = (title, survey, name, slug)
    if ids := list(refs[SESSION]):
        found = _rows(
            f"SELECT s.id, s.title, c.name, c.slug FROM {t.session} s"
            f" JOIN {t.community} c ON c.id = s.community_id WHERE s.id IN ({_marks(ids)})",
            ids,
        )
        sessions = {pk: rest for pk, *rest in found}
    return ideas, surveys, sessions


def _made_from(user, surveys: list[int], sessions: list[int]) -> list[tuple]:
    """Ideas made from `user`'s own answers to these surveys, or heard at these sessions:
    (pk, the idea it was merged into, survey, session, made from their answer)."""
    t = _table()
    parts, params = [], []
    if surveys:
        parts.append(
            "SELECT i.id, i.merged_into_id, r.survey_id, i.session_id, 1"
            f" FROM {t.idea} i JOIN {t.response} r ON r.id = i.survey_response_id"
            f" WHERE r.user_id = %s AND r.survey_id IN ({_marks(surveys)})"
        )
        params += [user.pk, *surveys]
    if sessions:
        parts.append(
            "SELECT id, merged_into_id, survey_id, session_id, 0"
            f" FROM {t.idea} WHERE session_id IN ({_marks(sessions)})"
        )
        params += sessions
    if not parts:
        return []
    return _rows(" UNION ALL ".join(parts), params)


def _answers(roots, surveys, sessions, day) -> dict[tuple[int, int], list[Answer]]:
    """The published updates about these ideas (and the ideas merged into them, which reach
    their idea in one step: merges are flattened), surveys and sessions, by (IDEA, root),
    (SURVEY, survey) or (SESSION, session), newest first and each once. One statement: a
    UNION of the three kinds of link, each read from the linked rows' index."""
    t = _table()
    update = (
        f"u.id, u.title, u.published_at, c.slug FROM {{links}} l"
        f" JOIN {t.update} u ON u.id = l.update_id JOIN {t.community} c ON c.id = u.community_id"
    )
    published = Update.Status.PUBLISHED
    parts, params = [], []
    if roots:
        # The ideas and those merged into them, as `with_merged()` finds them.
        group, group_params = (
            Idea.objects.filter(pk__in=list(roots)).with_merged().order_by().values("pk")
        ).query.sql_with_params()
        parts.append(
            f"SELECT {IDEA}, {standing_idea_sql('i')}, "
            + update.format(links=t.update_ideas)
            + f" JOIN {t.idea} i ON i.id = l.idea_id"
            f" WHERE u.status = %s AND l.idea_id IN ({group})"
        )
        params += [published, *group_params]
    for kind, ids, links, column in (
        (SURVEY, surveys, t.update_surveys, "survey_id"),
        (SESSION, sessions, t.update_sessions, "session_id"),
    ):
        if ids:
            parts.append(
                f"SELECT {kind}, l.{column}, "
                + update.format(links=links)
                + f" WHERE u.status = %s AND l.{column} IN ({_marks(ids)})"
            )
            params += [published, *ids]
    if not parts:
        return {}
    read = _datetimes()
    found = defaultdict(dict)
    for kind, ref, pk, title, published_at, slug in _rows(" UNION ALL ".join(parts), params):
        published_at = read(published_at)
        link = reverse("improvement:update", args=[slug, pk])
        found[kind, ref][pk] = Answer(pk, title, published_at, link, day(published_at))
    return {key: _newest_first(answers.values()) for key, answers in found.items()}


def _newest_first(answers) -> list[Answer]:
    unique = {answer.pk: answer for answer in answers}
    return sorted(unique.values(), key=lambda a: (a.published_at, a.pk), reverse=True)


def _answers_to(user, ideas, surveys, sessions, day) -> dict[tuple[int, int], list[Answer]]:
    """The updates that answered each idea (by the idea it was merged into, if it was),
    survey and session shown, those about ideas made from the person's answers or heard at
    the sessions included."""
    made_from = _made_from(user, list(surveys), list(sessions))
    roots = {
        standing_idea_of(pk, merged_into) for pk, (_t, _s, merged_into, *_rest) in ideas.items()
    }
    roots |= {standing_idea_of(pk, merged_into) for pk, merged_into, *_rest in made_from}
    answers = _answers(roots, list(surveys), list(sessions), day)
    for pk, merged_into, survey, session, from_answer in made_from:
        answered = answers.get((IDEA, standing_idea_of(pk, merged_into)), [])
        key = (SURVEY, survey) if from_answer else (SESSION, session)
        if key[1]:
            answers[key] = _newest_first([*answers.get(key, []), *answered])
    return answers


def fill(user, rows) -> list[dict]:
    """The page's rows as the items shown: what each input was, where it stands now, and
    the updates that answered it. A fixed number of queries, whatever the page holds."""
    day = Dates.now()
    refs = defaultdict(set)
    for row in rows:
        refs[row["kind"]].add(row["ref"])
    ideas, surveys, sessions = _read(refs)
    answers = _answers_to(user, ideas, surveys, sessions, day)
    labels = {kind: str(label) for kind, label in KIND_LABELS.items()}
    statuses = {value: str(label) for value, label in Idea.Status.choices}
    merged = _("Merged into “%(title)s”: %(status)s")
    open_closed = {True: _("Open"), False: _("Closed")}
    held = _("Held")
    now = timezone.now()
    items = []
    found = {IDEA: ideas, SUPPORT: ideas, COMMENT: ideas, SURVEY: surveys, SESSION: sessions}
    for row in rows:
        kind, ref, when = row["kind"], row["ref"], row["when"]
        if ref not in found[kind]:
            continue  # deleted since the page was counted
        if kind == SURVEY:
            title, survey, community, slug = surveys[ref]
            status = open_closed[survey.is_open(now)]
            link = reverse("engagement:survey", kwargs={"slug": slug, "pk": ref})
        elif kind == SESSION:
            title, community, slug = sessions[ref]
            status, link = held, reverse("engagement:session", kwargs={"slug": slug, "pk": ref})
        else:
            title, status, merged_into, target_title, target_status, community, slug = ideas[ref]
            status = statuses[status]
            if merged_into:
                status = merged % {"title": target_title, "status": statuses[target_status]}
            kind, ref = IDEA, standing_idea_of(ref, merged_into)  # answered as the idea it joined
            link = reverse("improvement:idea", args=[slug, ref])
        items.append(
            {
                "kind": KINDS[row["kind"]],
                "label": labels[KINDS[row["kind"]]],
                "title": title,
                "link": link,
                "when": when,
                "day": day(when),
                "status": status,
                "updates": answers.get((kind, ref), []),
                "community": community,
            }
        )
    return items
