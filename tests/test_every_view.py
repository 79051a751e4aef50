"""Every route of the site, as every kind of person, by GET and by POST, on the demo data: no
request ends in a server error, and in the coordinators' area the access functions that
decide each route say what to expect: whom they refuse never gets the page, whom they allow
is never turned away.

The routes are read from the URL configuration, so a new view is walked without anyone
adding it here; only a new kind of object in a URL needs a line in `BY_NAME`."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from communities.access import may_coordinate
from communities.models import (
    Community,
    Invitation,
    InvolvementOption,
    Membership,
    PartnerOrganisation,
)
from engagement.access import may_run_sessions
from engagement.models import (
    Answer,
    Claim,
    Expense,
    KeyPoint,
    Question,
    Session,
    Survey,
    Venue,
)
from improvement.models import (
    Comment,
    Cycle,
    Idea,
    Measure,
    PrioritisationRound,
    Project,
    Scorer,
    Theme,
    Update,
)
from members.models import Notification, User
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

SKIPPED_PREFIXES = ("admin/", "accounts/", "_bench/")
# The health check answers 503 on purpose while no worker or scheduler runs, as in tests.
SAYS_UNAVAILABLE = {"members:healthz"}
RUNNERS = ("partner", "coordinator", "staff")
# Posting to these ends the persona's place in the community (or their account), so they are
# walked last: every other route is seen by the persona as they are.
WALKED_LAST = ("communities:leave", "members:delete_account")
# Who signs in as each persona here: the demo's own logins, and an outsider added below.
DEMO_LOGINS = {
    "anonymous": None,
    "outsider": "outsider@example.net",
    "member": "member@example.org",
    "partner": "partner@example.org",
    "coordinator": "coordinator@example.org",
    "staff": "admin@example.org",
}


def routes() -> list[tuple[str, str, list[str]]]:
    """(name with namespace, route, its keyword arguments) for every view of the site."""
    found = []

    def walk(patterns, prefix, namespace, kwargs):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            here = [*kwargs, *pattern.pattern.converters]
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, pattern.namespace or namespace, here)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append((name, route, here))

    walk(get_resolver().url_patterns, "", None, [])
    return found


def _in(model, community, path="community", **more):
    """The first object of `model` in the community (reached along `path`)."""
    found = model.objects.filter(**{path: community}, **more).order_by("pk").first()
    assert found is not None, f"The demo data has no {model.__name__} to visit."
    return found


def _project(c):
    return _in(Project, c, measures__isnull=False)


def _pk(model, path="community", **more):
    return lambda c: {"pk": _in(model, c, path, **more).pk}


def _child(model, path, parent, name, **more):
    """A route to an object under another: the parent's pk and the object's, by `name`."""

    def kwargs(c):
        found = _in(model, c, path, **more)
        return {"pk": getattr(found, f"{parent}_id"), name: found.pk}

    return kwargs


def _in_project(model, name):
    return lambda c: (lambda p: {"pk": p.pk, name: _in(model, p, "project").pk})(_project(c))


# The keyword arguments that reach one real object of the demo community, by route name (or
# by namespace, for the rest of its routes). A data table: one line per kind of URL.
# fmt: off
ROUND = _pk(PrioritisationRound)
COMMENT = _child(Comment, "idea__community", "idea", "comment_pk")
MEASURE = _in_project(Measure, "measure")
PARTNER = _pk(PartnerOrganisation, "communities")
QUESTION = _child(Question, "survey__community", "survey", "question")
KEY_POINT = _child(KeyPoint, "session__community", "session", "point")
NO_TOKEN = lambda c: {"token": "not-a-real-token"}  # noqa: E731
BY_NAME = {
    "engagement:manage_venue": _pk(Venue),
    "engagement:manage_key_point_remove": KEY_POINT,
    "engagement:manage_survey_question": QUESTION,
    "engagement:manage_survey_question_delete": QUESTION,
    "engagement:claim_receipt": _child(Expense, "claim__community", "claim", "expense"),
    "improvement:comment_edit": COMMENT,
    "improvement:comment_report": COMMENT,
    "improvement:round_score": ROUND,
    "improvement:manage_round": ROUND,
    "improvement:manage_round_status": ROUND,
    "improvement:manage_round_results": ROUND,
    "improvement:manage_round_scorer_remove": _child(Scorer, "round__community", "round", "scorer"),
    "improvement:manage_theme": _pk(Theme),
    "improvement:manage_theme_delete": _pk(Theme),
    "improvement:manage_comment_hide": _pk(Comment, "idea__community"),
    "improvement:manage_comment_keep": _pk(Comment, "idea__community"),
    "improvement:manage_idea_from_key_point": _pk(KeyPoint, "session__community"),
    "improvement:manage_idea_from_answer": _pk(Answer, "response__survey__community"),
    "improvement:project_cycle": _in_project(Cycle, "cycle"),
    "improvement:project_measure": MEASURE,
    "improvement:project_measure_data": MEASURE,
    "improvement:project_measure_table": MEASURE,
    "improvement:project_measure_csv": MEASURE,
    "communities:manage_member": _pk(Membership, role="member"),
    "communities:manage_member_remove": _pk(Membership, role="member"),
    "communities:manage_decide": _pk(Membership),
    "communities:manage_invitation_resend": _pk(Invitation),
    "communities:manage_invitation_revoke": _pk(Invitation),
    "communities:invitation": lambda c: {"token": _in(Invitation, c).token},
    "communities:manage_contact_done": _pk(Notification),
    "communities:manage_involvement_edit": _pk(InvolvementOption),
    "communities:manage_partner_edit": PARTNER,
    "communities:manage_partner_unlink": PARTNER,
    "members:unsubscribe": NO_TOKEN,
    "members:unsubscribe_one_click": NO_TOKEN,
}
# The rest, by the start of the route's name: what the route is about.
BY_PREFIX = {
    "engagement:session": _pk(Session, status__in=["published", "completed"]),
    "engagement:manage_session": _pk(Session, status__in=["published", "completed"]),
    "engagement:manage_key_point": _pk(Session, status__in=["published", "completed"]),
    "engagement:survey": _pk(Survey),
    "engagement:manage_survey": _pk(Survey),
    "engagement:claim": _pk(Claim),
    "improvement:idea": _pk(Idea, status__in=["new", "considering"]),
    "improvement:manage_idea": _pk(Idea, status__in=["new", "considering"]),
    "improvement:update": _pk(Update, status="published"),
    "improvement:manage_update": _pk(Update),
    "improvement:project": lambda c: {"pk": _project(c).pk},
}
# fmt: on


def _object_for(name: str, community: Community) -> dict:
    if name in BY_NAME:
        return BY_NAME[name](community)
    found = [prefix for prefix in BY_PREFIX if name.startswith(prefix)]
    assert found, f"No object known for {name}: add it to BY_NAME."
    return BY_PREFIX[max(found, key=len)](community)


def url_of(name: str, kwargs: list[str], community: Community) -> str:
    arguments = {}
    if "slug" in kwargs:
        arguments["slug"] = community.slug
    if set(kwargs) - {"slug"}:
        arguments |= _object_for(name, community)
    return reverse(name, kwargs=arguments)


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True  # the demo loads only then
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False
    make_person(DEMO_LOGINS["outsider"], name="Olu Outsider")
    # The demo community with the most going on, with what the demo does not hold.
    community = Community.objects.annotate(n=Count("sessions")).order_by("-n", "pk").first()
    Invitation.objects.create(
        community=community,
        email="invited@example.net",
        expires_at=timezone.now() + timedelta(days=14),
    )
    Notification.objects.create(  # a letter to write, on the contact list
        recipient=User.objects.get(email=DEMO_LOGINS["member"]),
        community=community,
        kind="update_published",
        channel=Notification.Channel.POST,
        key="every-view",
    )
    return community


def _visit(client, method, url):
    response = getattr(client, method)(url)
    # Streamed downloads are read to the end: an error while writing is an error too.
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


# Who may use each part of the coordinators' area, by the start of the route's name: the
# access function that decides it. Everything else under /manage/ is for coordinators.
MANAGED_BY = {
    "engagement:manage_session": may_run_sessions,
    "engagement:manage_venue": may_run_sessions,
    "engagement:manage_key_point": may_run_sessions,
    "engagement:manage_survey_paper": may_run_sessions,
}


def may_use(name: str, person, community) -> bool:
    rule = next(
        (rule for start, rule in MANAGED_BY.items() if name.startswith(start)), may_coordinate
    )
    return rule(person, community)


def _problem(person, community, name: str, method: str, url: str, response) -> str:
    """What is wrong with one answer, or "" when nothing is. In the coordinators' area the
    access function that decides a route says what to expect: someone it refuses never gets
    the page (visitors are sent to sign in), and someone it allows is never turned away
    (a partner may still find another partner's session not found)."""
    status = response.status_code
    said = f"{method.upper()} {url}: {status}"
    if status >= 500 and not (name in SAYS_UNAVAILABLE and status == 503):
        return said
    if "/manage/" not in url:
        return ""
    if person is None:
        if status == 405:  # a POST-only view may say so before asking anyone to sign in
            return ""
        sent_to_sign_in = status == 302 and response["Location"].startswith(
            reverse("account_login")
        )
        return "" if sent_to_sign_in else f"{said}, not sent to sign in"
    allowed = may_use(name, person, community)
    if not allowed and status == 200:
        return f"{said} for {person.email}, whom the access rules refuse"
    if allowed and status == 403:
        return f"{said} for {person.email}, whom the access rules allow"
    return ""


@pytest.mark.parametrize("persona", DEMO_LOGINS)
def test_every_view_answers_every_persona_without_a_server_error(client, demo, persona):
    community = demo
    email = DEMO_LOGINS[persona]
    person = User.objects.get(email=email) if email else None
    if person is not None:
        client.force_login(person)
        assert may_coordinate(person, community) == (persona in ("coordinator", "staff"))
        assert may_run_sessions(person, community) == (persona in RUNNERS)
    problems, visited = [], 0
    walk = sorted(routes(), key=lambda route: route[0] in WALKED_LAST)
    for name, _route, kwargs in walk:
        url = url_of(name, kwargs, community)
        for method in ("get", "post"):
            response = _visit(client, method, url)
            visited += 1
            problems.append(_problem(person, community, name, method, url, response))
    assert visited > 200
    assert [problem for problem in problems if problem] == []
