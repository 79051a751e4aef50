"""Improvement project pages: who may see and change what, what refused changes leave alone,
query counts, the charts as SVG, and bad input on the data and project forms."""

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities.models import Community, Membership
from improvement import services
from improvement.models import Cycle, DataPoint, Measure, Project, TeamMember, Update
from improvement.services.projects import CSV_MAX_BYTES
from members import revisions
from members.models import Revision
from tests.conftest import PERSONAS, client_as
from tests.improvement.factories import adopted_idea, letters_project, new_member

pytestmark = pytest.mark.django_db

DRIVERS = "Booking\n  Letters printed late\n    Print on booking\nStaff time"


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def idea(community, member, coordinator):
    return adopted_idea(community, by=member, decided_by=coordinator)


@pytest.fixture
def project(community, coordinator, idea):
    return letters_project(community, by=coordinator, ideas=[idea], driver_diagram=DRIVERS)


@pytest.fixture
def team_member(community, project):
    """A member of the community added to the project's team (not its lead)."""
    person = new_member(community, "tia@example.org", name="Tia")
    services.set_team_member(project=project, user=person, role=TeamMember.Role.MEMBER)
    return person


@pytest.fixture
def measure(project):
    return make_measure(project, "Letters on time")


def make_measure(project, name, **fields) -> Measure:
    defaults = {"definition": "Share of letters", "kind": "outcome", "unit": "%"}
    return Measure.objects.create(project=project, name=name, **{**defaults, **fields})


def add_points(measure, values, start=date(2026, 1, 5)) -> None:
    DataPoint.objects.bulk_create(
        DataPoint(measure=measure, when=start + timedelta(weeks=week), value=value)
        for week, value in enumerate(values)
    )
    # Written in bulk, so without signals: raised as any bulk writer raises it.
    revisions.bump(revisions.key(Project.CHARTS_REVISION, measure.project_id))


def charts_key(project) -> str:
    return revisions.key(Project.CHARTS_REVISION, project.pk)


# The project routes by the short names these tests' tables use.
ROUTES = {
    "projects": "projects", "new": "project_new", "project": "project", "edit": "project_edit",
    "status": "project_status", "team": "project_team", "result": "project_result",
    "cycle_new": "project_cycle_new", "cycle": "project_cycle",
    "measure_new": "project_measure_new", "measure": "project_measure",
    "data": "project_measure_data", "measure_table": "project_measure_table",
    "measure_csv": "project_measure_csv",
}  # fmt: skip


def _url(name, project, **extra):
    route = f"improvement:{ROUTES[name]}"
    if name in ("projects", "new"):
        return reverse(route, args=[project.community.slug])
    return reverse(route, args=[project.community.slug, project.pk, *extra.values()])


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)]


def _chart_svgs(html: str) -> list[ET.Element]:
    return [svg for svg in _svgs(html) if "chart__svg" in svg.get("class", "")]


def _field_block(html: str, name: str) -> str:
    """The HTML crispy-forms draws for one field: its label, input and errors."""
    start = html.index(f'id="div_id_{name}"')
    following = html.find('id="div_id_', start + 1)
    return html[start : following if following != -1 else len(html)]


# --- Role matrix: reading --------------------------------------------------------------------

# The shared personas, and a member on the project's team.
ROLES = [*PERSONAS, "team_member"]
PAGES = ["projects", "project", "new", "edit", "team", "result", "cycle_new", "measure_new",
         "data"]  # fmt: skip

LOGIN = 302
# What each role gets for each page: the list and project pages are public; anyone who takes
# part in the community may start a project; the team and coordinators (and site staff) work
# on it; only the lead and coordinators choose the team.
EXPECTED_GET = {
    "anonymous":         [200, 200, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN],
    "outsider":          [200, 200, 403, 403, 403, 403, 403, 403, 403],
    "member":            [200, 200, 200, 403, 403, 403, 403, 403, 403],
    "partner":           [200, 200, 200, 403, 403, 403, 403, 403, 403],
    "team_member":       [200, 200, 200, 200, 403, 200, 200, 200, 200],
    "coordinator":       [200, 200, 200, 200, 200, 200, 200, 200, 200],
    "other_coordinator": [200, 200, 403, 403, 403, 403, 403, 403, 403],
    "staff":             [200, 200, 200, 200, 200, 200, 200, 200, 200],
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_who_may_see_each_page(request, client, project, measure, team_member, role, page):
    client_as(client, request, role)
    extra = {"measure": measure.pk} if page == "data" else {}
    response = client.get(_url(page, project, **extra))
    expected = EXPECTED_GET[role][PAGES.index(page)]
    assert response.status_code == expected, (role, page)
    if expected == LOGIN:
        assert "/accounts/login/" in response["Location"] or "login" in response["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_the_project_page_offers_editing_only_to_those_who_may_edit(
    request, client, project, measure, team_member, role
):
    client_as(client, request, role)
    text = client.get(project.get_absolute_url()).content.decode()
    may_edit = role in ("team_member", "coordinator", "staff")
    assert ("Change the status" in text) is may_edit
    assert (_url("edit", project) in text) is may_edit
    assert (_url("data", project, measure=measure.pk) in text) is may_edit


def test_a_team_member_who_left_the_community_may_no_longer_edit(
    client, community, project, team_member
):
    Membership.objects.filter(community=community, user=team_member).update(
        status=Membership.Status.LEFT
    )
    client.force_login(team_member)
    assert client.get(_url("edit", project)).status_code == 403
    assert client.post(_url("status", project), {"status": "testing"}).status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.PLANNING


# --- Role matrix: writing --------------------------------------------------------------------

MAY_WRITE = {"team_member", "coordinator", "staff"}


def _state(project, measure):
    project.refresh_from_db()
    return {
        "status": project.status,
        "result": project.result,
        "points": list(DataPoint.objects.order_by("when").values_list("when", "value")),
        "updates": Update.objects.count(),
        "published": project.result_published_at,
    }


WRITES = {
    "status": lambda project, measure: (_url("status", project), {"status": "testing"}),
    "add_point": lambda project, measure: (
        _url("data", project, measure=measure.pk),
        {"add_point": "1", "when": "2026-02-02", "value": "55", "note": "typed in"},
    ),
    "upload": lambda project, measure: (
        _url("data", project, measure=measure.pk),
        {
            "upload": "1",
            "file": SimpleUploadedFile(
                "points.csv", b"date,value\n2026-03-02,60\n2026-03-09,61\n", "text/csv"
            ),
        },
    ),
    "publish": lambda project, measure: (
        _url("result", project),
        {"result": "Letters now go out on booking.", "publish": "1"},
    ),
}


def _written(write, before, after) -> bool:
    if write == "status":
        return after["status"] == "testing"
    if write == "add_point":
        return after["points"] == before["points"] + [(date(2026, 2, 2), 55.0)]
    if write == "upload":
        return after["points"] == before["points"] + [
            (date(2026, 3, 2), 60.0),
            (date(2026, 3, 9), 61.0),
        ]
    return after["updates"] == 1 and after["published"] is not None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", list(WRITES))
def test_who_may_change_what_and_refusals_change_nothing(
    request, client, project, measure, team_member, role, write, django_capture_on_commit_callbacks
):
    add_points(measure, [40, 42])
    person = client_as(client, request, role)
    before = _state(project, measure)
    url, data = WRITES[write](project, measure)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    after = _state(project, measure)
    if write == "publish" and role == "team_member":
        # The team writes the result; a coordinator publishes it, as every update.
        assert response.status_code == 302
        assert after["updates"] == 0 and after["published"] is None
    elif role in MAY_WRITE:
        assert response.status_code == 302, (role, write)
        assert _written(write, before, after), (role, write, after)
    else:
        assert response.status_code == (LOGIN if person is None else 403), (role, write)
        assert after == before, (role, write)


def test_starting_a_project_by_form_makes_the_starter_its_lead(client, community, member, idea):
    client.force_login(member)
    response = client.post(
        _url("new", Project(community=community)),
        {
            "title": "Clinic letters",
            "aim_what": "Letters arrive in time",
            "aim_how_much": "from 40% to 90%",
            "aim_by_when": "2027-03-31",
            "ideas": [idea.pk],
            "driver_diagram": DRIVERS,
        },
    )
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    assert list(project.team.values_list("user", "role")) == [(member.pk, "lead")]
    assert list(project.ideas.all()) == [idea]


def test_an_outsider_cannot_start_a_project(client, community, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("improvement:project_new", args=[community.slug]),
        {"title": "Mine", "aim_what": "x", "aim_how_much": "y", "aim_by_when": "2027-03-31"},
    )
    assert response.status_code == 403
    assert not Project.objects.exists()


# --- Another community's project -------------------------------------------------------------


@pytest.fixture
def their_project(other_community, other_coordinator):
    project = services.create_project(
        community=other_community,
        by=other_coordinator,
        title="Heart clinic waits",
        aim_what="Shorter waits",
        aim_how_much="by half",
        aim_by_when=date(2027, 3, 31),
    )
    make_measure(project, "Waits")
    Cycle.objects.create(
        project=project,
        change="Text reminders",
        prediction="Fewer missed",
        measuring="Did not attend",
        starts_on=date(2026, 1, 5),
    )
    return project


@pytest.mark.parametrize("who", ["coordinator", "other_coordinator", "staff"])
@pytest.mark.parametrize("page", ["project", "edit", "team", "result", "cycle_new",
                                  "measure_new", "data", "cycle", "measure", "measure_table",
                                  "measure_csv"])  # fmt: skip
def test_another_communitys_project_through_this_communitys_address_is_not_found(
    request, client, community, their_project, who, page
):
    client.force_login(request.getfixturevalue(who))
    extra = {
        "data": {"measure": their_project.measures.get().pk},
        "measure": {"measure": their_project.measures.get().pk},
        "measure_table": {"measure": their_project.measures.get().pk},
        "measure_csv": {"measure": their_project.measures.get().pk},
        "cycle": {"cycle": their_project.cycles.get().pk},
    }.get(page, {})
    url = reverse(
        f"improvement:{ROUTES[page]}", args=[community.slug, their_project.pk, *extra.values()]
    )
    assert client.get(url).status_code == 404


def test_writes_to_another_communitys_project_are_not_found_and_change_nothing(
    client, community, coordinator, their_project
):
    client.force_login(coordinator)
    measure = their_project.measures.get()
    slug, pk = community.slug, their_project.pk
    writes = [
        (reverse("improvement:project_status", args=[slug, pk]), {"status": "testing"}),
        (
            reverse("improvement:project_measure_data", args=[slug, pk, measure.pk]),
            {"add_point": "1", "when": "2026-02-02", "value": "5"},
        ),
        (
            reverse("improvement:project_result", args=[slug, pk]),
            {"result": "Done.", "publish": "1"},
        ),
    ]
    for url, data in writes:
        assert client.post(url, data).status_code == 404, url
    their_project.refresh_from_db()
    assert their_project.status == "planning" and their_project.result == ""
    assert not DataPoint.objects.exists()


def test_a_measure_or_cycle_of_another_project_is_not_found(
    client, community, coordinator, project, measure
):
    other = services.create_project(
        community=community,
        by=coordinator,
        title="Other",
        aim_what="x",
        aim_how_much="y",
        aim_by_when=date(2027, 3, 31),
    )
    cycle = Cycle.objects.create(
        project=project,
        change="Print on booking",
        prediction="p",
        measuring="m",
        starts_on=date(2026, 1, 5),
    )
    client.force_login(coordinator)
    slug = community.slug
    assert (
        client.get(
            reverse("improvement:project_measure_data", args=[slug, other.pk, measure.pk])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("improvement:project_measure", args=[slug, other.pk, measure.pk])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("improvement:project_cycle", args=[slug, other.pk, cycle.pk])
        ).status_code
        == 404
    )
    response = client.post(
        reverse("improvement:project_measure_data", args=[slug, other.pk, measure.pk]),
        {"add_point": "1", "when": "2026-02-02", "value": "5"},
    )
    assert response.status_code == 404 and not DataPoint.objects.exists()


# --- An archived community -------------------------------------------------------------------


@pytest.fixture
def archived(community, project, measure, team_member):
    add_points(measure, [40, 42])
    Community.objects.filter(pk=community.pk).update(status=Community.Status.ARCHIVED)
    community.refresh_from_db()
    project.community = community
    return community


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("who", ["coordinator", "team_member", "staff"])
def test_an_archived_community_refuses_writes(
    request, client, archived, project, measure, team_member, write, who
):
    client.force_login(request.getfixturevalue(who))
    before = _state(project, measure)
    url, data = WRITES[write](project, measure)
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "This community is archived" in response.content.decode()
    assert _state(project, measure) == before


def test_an_archived_community_refuses_edits_and_new_projects(
    client, archived, project, coordinator
):
    client.force_login(coordinator)
    response = client.post(
        _url("edit", project),
        {"title": "Changed", "aim_what": "x", "aim_how_much": "y", "aim_by_when": "2027-03-31"},
        follow=True,
    )
    assert "This community is archived" in response.content.decode()
    project.refresh_from_db()
    assert project.title == "Letters on time"
    response = client.post(
        _url("new", project),
        {"title": "New one", "aim_what": "x", "aim_how_much": "y", "aim_by_when": "2027-03-31"},
    )
    assert "This community is archived" in response.content.decode()
    assert Project.objects.count() == 1


def test_an_archived_communitys_project_can_still_be_read(client, archived, project, coordinator):
    client.force_login(coordinator)
    assert client.get(project.get_absolute_url()).status_code == 200
    assert client.get(_url("projects", project)).status_code == 200


# --- Query counts ----------------------------------------------------------------------------


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The community, the project, the revisions of all the page keeps (one query); its cycles,
# ideas, team and updates; its measures and their points; the contributors (three); and
# for a coordinator the session, the person and their membership.
PROJECT_PAGE_QUERIES = {"anonymous": 12, "coordinator": 15}
# Seen again before anything it is drawn from changes, the page takes its charts, data
# tables, record and count of contributors from the cache: the measures and their points
# are not read again (two queries), nor its cycles, ideas, team and updates (four), nor the
# contributors (three).
PROJECT_PAGE_QUERIES_AGAIN = {role: n - 9 for role, n in PROJECT_PAGE_QUERIES.items()}
# After its charts' data changed (which its cycles are kept under too), and nothing its
# contributors are counted from.
PROJECT_PAGE_QUERIES_NEW_DATA = {role: n - 3 for role, n in PROJECT_PAGE_QUERIES.items()}


@pytest.mark.parametrize("role", ["anonymous", "coordinator"])
def test_the_project_page_makes_as_many_queries_for_3_measures_of_300_points_as_for_1_of_3(
    request, client, community, coordinator, project, role, django_assert_num_queries
):
    Cycle.objects.create(
        project=project,
        change="Print on booking",
        prediction="p",
        measuring="m",
        starts_on=date(2026, 2, 2),
    )
    client_as(client, request, role)
    url = project.get_absolute_url()
    small = make_measure(project, "Small")
    add_points(small, [40, 42, 41])
    with django_assert_num_queries(PROJECT_PAGE_QUERIES[role]):
        client.get(url)
    with django_assert_num_queries(PROJECT_PAGE_QUERIES_AGAIN[role]):
        client.get(url)
    for number in range(2):
        make_measure(project, f"Big {number}")
    for measure in project.measures.all():
        DataPoint.objects.filter(measure=measure).delete()
        add_points(measure, [40 + (i % 7) for i in range(300)], start=date(2020, 1, 6))
    assert DataPoint.objects.count() == 900
    with django_assert_num_queries(PROJECT_PAGE_QUERIES_NEW_DATA[role]):
        response = client.get(url)
    assert len(_chart_svgs(response.content.decode())) == 3
    with django_assert_num_queries(PROJECT_PAGE_QUERIES_AGAIN[role]):
        again = client.get(url)
    assert _measure_part(again.content.decode()) == _measure_part(response.content.decode())


PROJECT_LIST_QUERIES = {"anonymous": 3, "member": 6}


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_the_projects_list_makes_as_many_queries_for_30_projects_as_for_3(
    request, client, community, coordinator, idea, role, django_assert_num_queries
):
    def start(count):
        for number in range(count):
            project = services.create_project(
                community=community,
                by=coordinator,
                ideas=[idea],
                title=f"Project {number}",
                aim_what="x",
                aim_how_much="y",
                aim_by_when=date(2027, 3, 31),
            )
            make_measure(project, "m")

    client_as(client, request, role)
    url = reverse("improvement:projects", args=[community.slug])
    start(3)
    with django_assert_num_queries(PROJECT_LIST_QUERIES[role]):
        client.get(url)
    start(27)
    with django_assert_num_queries(PROJECT_LIST_QUERIES[role]):
        response = client.get(url)
    assert response.content.decode().count('class="update-card"') == 20  # one page


# --- The charts as SVG -----------------------------------------------------------------------


def test_every_svg_on_the_project_page_parses_as_xml_with_a_title_and_description(client, project):
    run = make_measure(project, "Patients' letters & <calls>", target=90)
    add_points(run, [40, 42, 41, 39, 40, 43, 41, 40, 60, 62, 61, 63, 64, 62, 65])
    xmr = make_measure(project, 'Waiting "days"', chart="xmr", higher_is_better=False)
    add_points(xmr, [12, 11, 13, 12, 30, 12, 11, 12, 13, 12, 11, 12, 12])
    Cycle.objects.create(
        project=project,
        change="Print <b>on</b> booking & post",
        prediction="p",
        measuring="m",
        starts_on=date(2026, 3, 2),
    )
    html = client.get(project.get_absolute_url()).content.decode()
    svgs = _svgs(html)
    assert len(svgs) == 3  # two charts and the driver diagram
    charts = _chart_svgs(html)
    assert [c.find("title").text for c in charts] == [
        "Run chart of Patients' letters & <calls>",
        'XmR chart of Waiting "days"',
    ]
    for chart in charts:
        desc = chart.find("desc").text
        assert desc and desc.strip()
        assert chart.get("aria-labelledby") == (
            f"{chart.find('title').get('id')} {chart.find('desc').get('id')}"
        )
    assert "A shift" in charts[0].find("desc").text
    assert "process limits" in charts[1].find("desc").text
    drivers = [s for s in svgs if "drivers__svg" in s.get("class", "")]
    assert len(drivers) == 1 and drivers[0].find("title").text.strip()
    # The cycle is marked on both charts, its words escaped.
    cycle_titles = [t.text for c in charts for line in c.iter("line") for t in line.iter("title")]
    assert cycle_titles == ["Cycle 1 starts: Print <b>on</b> booking & post"] * 2
    # Ids are unique on the page.
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("values", "words"),
    [([], "No data yet"), ([40], "a chart needs at least two")],
)
def test_fewer_than_two_points_says_why_and_draws_no_chart(
    request, client, coordinator, project, measure, values, words
):
    Project.objects.filter(pk=project.pk).update(driver_diagram="")
    add_points(measure, values)
    for persona, url in (
        ("anonymous", project.get_absolute_url()),
        ("coordinator", _url("data", project, measure=measure.pk)),
    ):
        client_as(client, request, persona)
        html = client.get(url).content.decode()
        assert words in html
        assert "<svg" not in html


def test_dates_entered_out_of_order_are_drawn_in_date_order(client, project, measure):
    for when, value in [
        (date(2026, 3, 2), 3),
        (date(2026, 1, 5), 1),
        (date(2026, 2, 2), 2),
        (date(2026, 1, 19), 1.5),
    ]:
        services.add_point(measure=measure, when=when, value=value)
    html = client.get(project.get_absolute_url()).content.decode()
    (chart,) = _chart_svgs(html)
    labels = [c.find("title").text for c in chart if c.tag in ("circle", "rect")]
    assert labels == ["5 Jan 2026: 1", "19 Jan 2026: 1.5", "2 Feb 2026: 2", "2 Mar 2026: 3"]
    xs = [float(c.get("cx")) for c in chart.iter("circle")]
    assert xs == sorted(xs)
    path = chart.find("path").get("d")
    ys = [float(step.split(",")[1]) for step in path[1:].split(" L")]
    assert ys == sorted(ys, reverse=True)  # values rise with the dates: y falls on screen
    rows = re.findall(r"<tr><td>([^<]+)</td><td>", html)
    assert rows == ["5 Jan 2026", "19 Jan 2026", "2 Feb 2026", "2 Mar 2026"]


# --- CSV uploads: bad input ------------------------------------------------------------------


def _upload(client, project, measure, content: bytes, name="points.csv"):
    return client.post(
        _url("data", project, measure=measure.pk),
        {"upload": "1", "file": SimpleUploadedFile(name, content, "text/csv")},
    )


CSV_CASES = {
    "wrong columns": (b"day,amount\n2026-01-05,40\n",
                      ["Line 1: The first line must name the columns: date, value",
                       "It says: day, amount."]),
    "an unknown column": (b"date,value,ward\n2026-01-05,40,A\n",
                          ["Line 1: Unknown columns: ward."]),
    "bad dates": (b"date,value\n2026-01-05,40\n05/01/2026,41\n2026-02-30,42\n",
                  ["Line 3: “05/01/2026” is not a date like 2026-03-31.",
                   "Line 4: “2026-02-30” is not a date like 2026-03-31."]),
    "non-numbers": (b"date,value\n2026-01-05,40\n2026-01-12,forty\n2026-01-19,\n2026-01-26,nan\n",
                    ["Line 3: “forty” is not a number like 42 or 3.5",
                     "Line 4: “” is not a number like 42 or 3.5",
                     "Line 5: “nan” is not a number like 42 or 3.5"]),
    "a comma in a number": (b"date,value\n2026-01-05,\"3,5\"\n",
                            ["Line 2: “3,5” is not a number like 42 or 3.5 (a full stop for "
                             "decimals, no commas)."]),
    "a date twice in the file": (b"date,value\n2026-01-05,40\n2026-01-12,41\n2026-01-05,42\n",
                                 ["Line 4: 2026-01-05 is in the file twice (also line 2)."]),
    "a date that already has a value": (b"date,value\n2026-01-12,41\n2025-12-01,40\n",
                                        ["Line 3: 2025-12-01 already has a value."]),
    "a header and no rows": (b"date,value\n", ["Line 2: The file has no rows of data"]),
    "an empty file": (b"", ["The submitted file is empty."]),
    "a file that is not UTF-8": ("date,value,note\n2026-01-05,40,café\n".encode("latin-1"),
                                 ["The file is not plain text (save it as CSV, UTF-8)."]),
    "a file over the size limit": (b"date,value\n" + b"2026-01-05,40\n" * (CSV_MAX_BYTES // 14 + 1),
                                   ["The file is too large: keep it under 500 KB."]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_a_bad_csv_imports_nothing_and_says_what_is_wrong(
    client, coordinator, project, measure, case
):
    services.add_point(measure=measure, when=date(2025, 12, 1), value=39)
    content, messages = CSV_CASES[case]
    if case == "a file over the size limit":
        assert len(content) > CSV_MAX_BYTES
    client.force_login(coordinator)
    response = _upload(client, project, measure, content)
    html = response.content.decode()
    assert response.status_code == 400
    for message in messages:
        assert message in html, (case, message)
    assert list(DataPoint.objects.values_list("when", flat=True)) == [date(2025, 12, 1)]


def test_a_good_csv_with_notes_and_blank_lines_imports_every_row_sorted(
    client, coordinator, project, measure
):
    client.force_login(coordinator)
    content = "\ufeffDate,Value,Note\n2026-01-19,1,200\n\n2026-01-05,1250.5,new rota\n"
    response = _upload(client, project, measure, content.encode())
    assert response.status_code == 302
    assert list(measure.points.values_list("when", "value", "note")) == [
        (date(2026, 1, 5), 1250.5, "new rota"),
        (date(2026, 1, 19), 1.0, "200"),
    ]
    page = client.get(response["Location"])
    assert "2 points imported." in page.content.decode()


# --- The point form: bad input ---------------------------------------------------------------


def test_a_point_with_no_date_and_a_word_for_a_value_is_refused_beside_each_field(
    client, coordinator, project, measure
):
    client.force_login(coordinator)
    response = client.post(
        _url("data", project, measure=measure.pk),
        {"add_point": "1", "when": "", "value": "forty two", "note": "Busy week"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in _field_block(html, "when")
    value = _field_block(html, "value")
    assert "Enter a number, such as 42 or 3.5." in value
    assert 'value="forty two"' in value
    assert 'value="Busy week"' in _field_block(html, "note")
    assert not DataPoint.objects.exists()


def test_a_point_with_an_impossible_date_keeps_what_was_typed(
    client, coordinator, project, measure
):
    client.force_login(coordinator)
    response = client.post(
        _url("data", project, measure=measure.pk),
        {"add_point": "1", "when": "2026-02-30", "value": "42"},
    )
    when = _field_block(response.content.decode(), "when")
    assert "Enter a date like 2026-03-31." in when and 'value="2026-02-30"' in when
    assert 'value="42"' in _field_block(response.content.decode(), "value")
    assert not DataPoint.objects.exists()


def test_a_second_point_on_the_same_date_is_refused_beside_the_date(
    client, coordinator, project, measure
):
    services.add_point(measure=measure, when=date(2026, 1, 5), value=40)
    client.force_login(coordinator)
    response = client.post(
        _url("data", project, measure=measure.pk),
        {"add_point": "1", "when": "2026-01-05", "value": "41"},
    )
    assert response.status_code == 400
    when = _field_block(response.content.decode(), "when")
    assert "There is already a value for 2026-01-05. Change that one instead." in when
    assert list(measure.points.values_list("value", flat=True)) == [40.0]


# --- The driver diagram form -----------------------------------------------------------------


def _project_data(project, **changes):
    data = {
        "title": project.title, "aim_what": project.aim_what,
        "aim_how_much": project.aim_how_much, "aim_by_when": project.aim_by_when.isoformat(),
        "ideas": list(project.ideas.values_list("pk", flat=True)),
        "driver_diagram": project.driver_diagram,
    }  # fmt: skip
    return {**data, **changes}


def test_a_driver_diagram_with_a_bad_indent_is_refused_with_its_line_and_kept(
    client, coordinator, project
):
    client.force_login(coordinator)
    bad = "Booking\n   Letters printed late\nStaff time\n      Far too deep"
    response = client.post(
        _url("edit", project), _project_data(project, title="Changed", driver_diagram=bad)
    )
    html = response.content.decode()
    assert response.status_code == 200
    block = _field_block(html, "driver_diagram")
    assert "Line 2: indent by two spaces per level." in block
    assert "Line 4: too deep." in block
    assert f">\n{bad}</textarea>" in block
    assert 'value="Changed"' in _field_block(html, "title")
    project.refresh_from_db()
    assert (project.title, project.driver_diagram) == ("Letters on time", DRIVERS)


def test_a_driver_diagram_that_jumps_a_level_is_refused_when_starting_a_project(
    client, community, member
):
    client.force_login(member)
    bad = "Booking\n    Print on booking"
    response = client.post(
        reverse("improvement:project_new", args=[community.slug]),
        {
            "title": "Letters",
            "aim_what": "x",
            "aim_how_much": "y",
            "aim_by_when": "2027-03-31",
            "driver_diagram": bad,
        },
    )
    block = _field_block(response.content.decode(), "driver_diagram")
    assert "Line 2: indented more than one level below the line above." in block
    assert f">\n{bad}</textarea>" in block
    assert not Project.objects.exists()


def test_a_good_driver_diagram_is_saved_and_drawn(client, coordinator, project):
    client.force_login(coordinator)
    good = "- Booking\n\n\t- Letters printed late\n\t\t- Print on booking\n- Staff time"
    response = client.post(_url("edit", project), _project_data(project, driver_diagram=good))
    assert response.status_code == 302
    html = client.get(project.get_absolute_url()).content.decode()
    assert "Primary driver: Booking" in html and "Primary driver: Staff time" in html
    assert "Secondary driver: Letters printed late" in html
    assert "Change idea: Print on booking" in html


# --- The list's order, and driver diagrams saved elsewhere -----------------------------------


def test_the_list_shows_what_is_being_tried_now_before_what_is_finished(
    client, community, coordinator
):
    """ "What the community is trying now, then what it has done": projects testing or
    sustaining changes come before completed and stopped ones, however old they are."""
    titles = {}
    for status in ["testing", "sustaining", "planning", "completed", "stopped"]:
        project = services.create_project(
            community=community,
            by=coordinator,
            title=f"A project {status}",
            aim_what="x",
            aim_how_much="y",
            aim_by_when=date(2027, 3, 31),
        )
        Project.objects.filter(pk=project.pk).update(status=status)
        titles[status] = project.title
    html = client.get(reverse("improvement:projects", args=[community.slug])).content.decode()
    at = {status: html.index(f">{title}</a>") for status, title in titles.items()}
    for now in ("testing", "sustaining"):
        for finished in ("completed", "stopped"):
            assert at[now] < at[finished], (now, finished)


def test_a_driver_diagram_saved_in_the_admin_is_checked_like_on_the_project_form(
    client, staff, project
):
    """The Django admin saves the project with its own form: a bad indent saved there must
    be refused as the project form refuses it, or the public project page cannot be drawn."""
    client.force_login(staff)
    url = reverse("admin:improvement_project_change", args=[project.pk])
    bad = "Booking\n   Letters printed late"
    data = {
        "community": project.community.pk, "title": project.title,
        "aim_what": project.aim_what, "aim_how_much": project.aim_how_much,
        "aim_by_when": "2027-03-31", "ideas": list(project.ideas.values_list("pk", flat=True)),
        "driver_diagram": bad, "result": "",
        "created_at_0": "2026-01-05", "created_at_1": "10:00:00",
        "team-TOTAL_FORMS": "0", "team-INITIAL_FORMS": "0",
        "cycles-TOTAL_FORMS": "0", "cycles-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = client.post(url, data)
    project.refresh_from_db()
    if response.status_code == 302:  # saved: the page must still open
        assert project.driver_diagram == bad
        client.logout()
        assert client.get(project.get_absolute_url()).status_code == 200
    else:
        assert response.status_code == 200
        assert "Line 2: indent by two spaces per level." in response.content.decode()
        assert project.driver_diagram == DRIVERS


# --- Charts drawn once per revision of the data ----------------------------------------------


def _measure_part(html: str) -> str:
    """The measures section of the project page: the charts and the tables beside them."""
    return html[html.index('id="measures-h"') :]


def _mark_astronomical(client, project, measure):
    """Through the data page, as the team does it."""
    client.force_login(project.team.get().user)
    point = measure.points.order_by("when").last()
    client.post(_url("data", project, measure=measure.pk), {"astronomical": str(point.pk)})
    client.logout()


def _edit_measure(**fields):
    def change(client, project, measure):
        for name, value in fields.items():
            setattr(measure, name, value)
        measure.save()

    return change


def _edit_first_cycle(**fields):
    def change(client, project, measure):
        cycle = project.cycles.get()
        for name, value in fields.items():
            setattr(cycle, name, value)
        cycle.save()

    return change


def _save_last_point(measure, **fields):
    point = measure.points.order_by("when").last()
    for name, value in fields.items():
        setattr(point, name, value)
    point.save()


def _delete_other_point_and_add_one(client, project, measure):
    """The count stays the same, and the new point may even reuse the old one's place."""
    measure.points.order_by("when").first().delete()
    services.add_point(measure=measure, when=date(2026, 6, 1), value=52)


# Each change to what the charts are drawn from, and what the page shows after it.
CHANGES = {
    "a point added": (
        lambda client, project, measure: services.add_point(
            measure=measure, when=date(2026, 6, 1), value=52
        ),
        "The data: 16 points",
    ),
    "a point's value changed": (
        lambda client, project, measure: _save_last_point(measure, value=77.5),
        "77.5",
    ),
    "a point deleted": (
        lambda client, project, measure: measure.points.order_by("when").last().delete(),
        "The data: 14 points",
    ),
    "a point deleted and another added": (_delete_other_point_and_add_one, "1 Jun 2026"),
    "points imported from a file": (
        lambda client, project, measure: services.import_points(
            measure=measure, content=b"date,value\n2026-06-01,50\n2026-06-08,51\n"
        ),
        "The data: 17 points",
    ),
    "a point marked astronomical": (_mark_astronomical, "Astronomical point, marked by the team"),
    "a cycle added": (
        lambda client, project, measure: Cycle.objects.create(
            project=project,
            change="Text reminders",
            prediction="p",
            measuring="m",
            starts_on=date(2026, 2, 2),
        ),
        "Cycle 2 starts: Text reminders",
    ),
    "a cycle changed": (_edit_first_cycle(change="Print on booking, twice"), "twice"),
    "a cycle deleted": (
        lambda client, project, measure: project.cycles.get().delete(),
        None,  # the cycle's mark is gone
    ),
    "the target changed": (_edit_measure(target=55), "Target 55"),
    "the baseline changed": (
        _edit_measure(baseline_until=date(2026, 2, 16)),
        "from the 7 baseline points",
    ),
    "the chart changed to XmR, with new limits": (
        _edit_measure(chart="xmr", rebase_from=date(2026, 3, 2)),
        "From 2 Mar 2026: mean",
    ),
    "the measure renamed": (_edit_measure(name="Letters sent in time"), "Letters sent in time"),
    "another measure added": (
        lambda client, project, measure: add_points(make_measure(project, "Calls"), [3, 4, 5]),
        "Run chart of Calls",
    ),
    "the measure deleted": (lambda client, project, measure: measure.delete(), "No measures yet."),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_what_the_charts_show_is_on_the_project_page_at_once(
    client, project, measure, change
):
    add_points(measure, [40, 42, 41, 39, 40, 43, 41, 40, 60, 62, 61, 63, 64, 62, 65])
    Cycle.objects.create(
        project=project,
        change="Print on booking",
        prediction="p",
        measuring="m",
        starts_on=date(2026, 1, 19),
    )
    url = project.get_absolute_url()
    before = _measure_part(client.get(url).content.decode())
    assert _measure_part(client.get(url).content.decode()) == before  # kept, and the same
    (revision,) = revisions.read(charts_key(project))

    make_change, shown = CHANGES[change]
    make_change(client, project, measure)

    assert revisions.read(charts_key(project)) > (revision,)
    after = _measure_part(client.get(url).content.decode())
    assert after != before
    if shown is None:
        assert "Cycle 1 starts" in before and "Cycle 1 starts" not in after
    else:
        assert shown not in before and shown in after


def test_a_point_changed_by_a_writer_that_commits_last_is_on_the_project_page(
    client, project, measure
):
    """`updated_at` is stamped when a row is saved, inside a transaction that may commit
    after another writer's, stamped later. Replayed in one thread: the edit is stamped with a
    moment older than the newest point's, and lands after the page was drawn and kept."""
    add_points(measure, [40, 42, 41])
    first = measure.points.order_by("when").first()
    edit_started = timezone.now()
    _save_last_point(measure, note="checked")  # the other writer, committed first
    url = project.get_absolute_url()
    assert "77.5" not in _measure_part(client.get(url).content.decode())
    first.value = 77.5
    with mock.patch("django.utils.timezone.now", return_value=edit_started):
        first.save()
    assert "77.5" in _measure_part(client.get(url).content.decode())


def test_a_point_changed_in_the_admin_is_on_the_project_page(client, project, measure, staff):
    add_points(measure, [40, 42, 41])
    url = project.get_absolute_url()
    assert "77.5" not in _measure_part(client.get(url).content.decode())
    point = measure.points.order_by("when").first()
    client.force_login(staff)
    data = {**model_to_dict(point), "value": "77.5"}
    data = {name: value for name, value in data.items() if value not in (None, False)}
    response = client.post(reverse("admin:improvement_datapoint_change", args=[point.pk]), data)
    assert response.status_code == 302
    assert "77.5" in _measure_part(client.get(url).content.decode())


def test_a_measure_moved_to_another_project_raises_both(community, coordinator, project, measure):
    other = services.create_project(
        community=community,
        by=coordinator,
        title="Other",
        aim_what="x",
        aim_how_much="y",
        aim_by_when=date(2027, 3, 31),
    )
    keys = (charts_key(project), charts_key(other))
    before = revisions.read(*keys)
    measure.project = other
    measure.save()  # as the admin would
    after = revisions.read(*keys)
    assert after[0] > before[0] and after[1] > before[1]


def test_a_measure_deleted_with_its_points_raises_the_revision_once(project, measure):
    add_points(measure, [40 + (i % 7) for i in range(300)], start=date(2020, 1, 6))
    (before,) = revisions.read(charts_key(project))
    with CaptureQueriesContext(connection) as queries:
        measure.delete()
    raised = [q for q in queries if Revision._meta.db_table in q["sql"]]
    assert len(raised) == 1
    assert revisions.read(charts_key(project)) == (before + 1,)


def test_another_projects_data_does_not_change_this_ones_revision(
    community, coordinator, project, measure
):
    add_points(measure, [40, 42, 41])
    revision = revisions.read(charts_key(project))
    other = services.create_project(
        community=community,
        by=coordinator,
        title="Other",
        aim_what="x",
        aim_how_much="y",
        aim_by_when=date(2027, 3, 31),
    )
    add_points(make_measure(other, "Other"), [1, 2, 3])
    Cycle.objects.create(
        project=other, change="c", prediction="p", measuring="m", starts_on=date(2026, 1, 5)
    )
    assert revisions.read(charts_key(project)) == revision


# --- The numbers beside the charts: the latest on the page, all of them a link away ------------


def test_a_long_series_shows_its_latest_points_and_links_to_all_of_them(client, project, measure):
    add_points(measure, [40 + (i % 7) for i in range(300)], start=date(2020, 1, 6))
    html = client.get(project.get_absolute_url()).content.decode()
    rows = re.findall(r"<tr><td>([^<]+)</td><td>", html)
    last = date(2020, 1, 6) + timedelta(weeks=299)
    assert len(rows) == 25
    assert rows[-1] == f"{last.day} {last:%b %Y}"  # the latest, oldest first
    assert "The data: 300 points" in html and "The latest 25 are below." in html
    table = _url("measure_table", project, measure=measure.pk)
    csv_url = _url("measure_csv", project, measure=measure.pk)
    assert f'href="{table}"' in html and f'href="{csv_url}"' in html
    # Every point is on the table's pages, a hundred at a time, oldest first.
    seen = []
    for number in (1, 2, 3):
        page = client.get(table, {"page": number}).content.decode()
        seen += re.findall(r"<tr><td>([^<]+)</td><td>", page)
    assert len(seen) == 300 and seen[0] == "6 Jan 2020" and seen[-1] == rows[-1]
    assert "Page 3 of 3" in page


def test_a_short_series_shows_every_point_and_no_link_to_more(client, project, measure):
    add_points(measure, [40, 42, 41])
    html = client.get(project.get_absolute_url()).content.decode()
    assert len(re.findall(r"<tr><td>([^<]+)</td><td>", html)) == 3
    assert "The latest" not in html
    assert _url("measure_table", project, measure=measure.pk) not in html


@pytest.mark.parametrize("role", ["anonymous", "outsider", "member"])
def test_anyone_who_may_see_the_chart_may_download_its_data(
    request, client, project, measure, role
):
    add_points(measure, [40, 42.25])
    services.add_point(measure=measure, when=date(2026, 3, 2), value=-3, note="=HYPERLINK(1)")
    DataPoint.objects.filter(value=40).update(astronomical=True, note="Strike, day 1")
    client_as(client, request, role)
    response = client.get(_url("measure_csv", project, measure=measure.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="letters-on-time-' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == [
        "date,value,note,astronomical",
        '2026-01-05,40,"Strike, day 1",yes',
        "2026-01-12,42.25,,",
        "2026-03-02,-3,'=HYPERLINK(1),",  # a spreadsheet shows it, never runs it
    ]


# The community, the project, the measure, the count of its points and one page of them;
# signed in, also the session and the person.
TABLE_PAGE_QUERIES = {"anonymous": 5, "coordinator": 7}


@pytest.mark.parametrize("role", ["anonymous", "coordinator"])
def test_the_data_table_page_makes_as_many_queries_for_300_points_as_for_3(
    request, client, project, measure, role, django_assert_num_queries
):
    client_as(client, request, role)
    url = _url("measure_table", project, measure=measure.pk)
    add_points(measure, [40, 42, 41])
    with django_assert_num_queries(TABLE_PAGE_QUERIES[role]):
        assert client.get(url).status_code == 200
    DataPoint.objects.all().delete()
    add_points(measure, [40 + (i % 7) for i in range(300)], start=date(2020, 1, 6))
    with django_assert_num_queries(TABLE_PAGE_QUERIES[role]):
        response = client.get(url, {"page": 2})
    assert len(re.findall(r"<tr><td>", response.content.decode())) == 100


def test_the_data_page_lists_the_latest_points_a_page_at_a_time_and_redraws_on_a_change(
    client, coordinator, project
):
    from improvement.project_views import DATA_ROWS_PER_PAGE

    measure = make_measure(project, "Letters on time")
    add_points(measure, [40 + (i % 7) for i in range(60)], start=date(2025, 1, 6))
    client.force_login(coordinator)
    url = reverse(
        "improvement:project_measure_data", args=[project.community.slug, project.pk, measure.pk]
    )
    first = client.get(url)
    assert len(first.context["points"]) == DATA_ROWS_PER_PAGE
    latest = measure.points.order_by("-when").first()
    assert first.context["points"][0] == latest
    assert len(client.get(url, {"page": 3}).context["points"]) == 60 - 2 * DATA_ROWS_PER_PAGE
    # A point added (through the page) is drawn at once: the chart is kept per revision.
    client.post(url, {"add_point": "1", "when": "2026-06-01", "value": "99", "note": ""})
    again = client.get(url)
    assert again.context["chart"] != first.context["chart"]
    assert again.context["points"][0].value == 99


def test_each_chart_says_how_its_signals_are_found(client, project, measure):
    add_points(measure, [40, 42, 41, 39, 40, 43, 41, 40, 60, 62, 61, 63])
    xmr = make_measure(project, "Days to a letter", chart=Measure.Chart.XMR)
    add_points(xmr, [5, 6, 5, 7, 6, 5, 6, 7])
    page = client.get(project.get_absolute_url()).content.decode()
    assert page.count("How the signals are found") == 2
    assert "A shift: 6 or more points in a row above the median, or below it." in page
    assert "7 or more points in a row above the mean, or below it." in page
    assert "with all three on that side of the mean" in page


def test_an_xmr_chart_says_which_jumps_screening_left_out(client, project):
    xmr = make_measure(project, "Days to a letter", chart=Measure.Chart.XMR)
    add_points(xmr, [10, 12] * 5 + [40, 12])
    page = client.get(project.get_absolute_url()).content.decode()
    assert "2 jumps of 3.267 times the average jump or more were left out" in page
    xmr.screen_moving_ranges = False
    xmr.save()
    page = client.get(project.get_absolute_url()).content.decode()
    assert "were left out" not in page
