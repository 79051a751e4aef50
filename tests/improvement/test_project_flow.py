"""Improvement projects over time: the status table and what it does to the linked ideas, the
team, publishing the result, and the chart and driver-diagram geometry behind the pages."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.access import ArchivedError
from communities.models import Community, Membership
from improvement import access, charts, services, spc
from improvement.models import (
    Cycle,
    Idea,
    IdeaEvent,
    Measure,
    Project,
    ProjectError,
    TeamMember,
    Update,
)
from members.models import Notification
from members.status import StatusError
from tests.improvement.factories import make_idea, new_member

S = Project.Status
LABELS = dict(Project.Status.choices)
START = date(2026, 1, 5)  # a Monday; points are weekly from here


def weekly(values, start=START) -> list[spc.Point]:
    return [spc.Point(start + timedelta(weeks=i), v) for i, v in enumerate(values)]


@pytest.fixture
def project(db, community, coordinator):
    return services.create_project(
        community=community,
        by=coordinator,
        title="Letters on time",
        aim_what="Letters arrive before the appointment",
        aim_how_much="from 40% to 90%",
        aim_by_when=date(2027, 3, 31),
    )


def _at(project, status, **fields) -> Project:
    Project.objects.filter(pk=project.pk).update(status=status, **fields)
    project.refresh_from_db()
    return project


def idea_in(status, community, *, author, by, title=None) -> Idea:
    """An idea moved to `status` the way the ideas pages move it."""
    idea = make_idea(community, author=author, title=title or f"An idea {status}")
    if status == "new":
        return idea
    if status == "not_taken_forward":
        services.decide(idea=idea, outcome="not_taken_forward", reason="Not ours.", by=by)
    elif status == "merged":
        target = make_idea(community, author=author, title=f"Target of {idea.title}")
        services.merge_ideas(source=idea, target=target, by=by, note="The same")
    else:
        path = ["considering", "prioritised", "in_progress", "done"]
        for step in path[: path.index(status) + 1]:
            if step != "considering" or status == "considering":
                services.change_status(idea=idea, status=step, by=by)
    idea.refresh_from_db()
    assert idea.status == status
    return idea


# --- The project status table ----------------------------------------------------------------

PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


@pytest.mark.django_db
@pytest.mark.parametrize(("now", "new"), PAIRS)
def test_every_status_change_is_allowed_or_refused_by_the_table(project, coordinator, now, new):
    project = _at(project, now, result="Letters now go out on booking.")
    allowed = new in Project.NEXT_STATUSES[now]
    if allowed:
        changed = services.change_project_status(project=project, status=new, by=coordinator)
        assert changed.status == new
        project.refresh_from_db()
        assert project.status == new
        return
    with pytest.raises(StatusError) as refused:
        services.change_project_status(project=project, status=new, by=coordinator)
    message = " ".join(refused.value.messages)
    if now == S.COMPLETED:
        assert message == "This project is completed, so its status stays as it is."
    else:
        assert message.startswith(
            f"A project that is “{LABELS[now]}” cannot become “{LABELS[new]}”. "
            "From here it can become: "
        )
        for option in Project.NEXT_STATUSES[now]:
            assert f"“{LABELS[option]}”" in message
    project.refresh_from_db()
    assert project.status == now


def test_the_table_has_the_statuses_the_issue_names():
    assert Project.NEXT_STATUSES == {
        S.PLANNING: {S.TESTING, S.STOPPED},
        S.TESTING: {S.SUSTAINING, S.COMPLETED, S.STOPPED},
        S.SUSTAINING: {S.COMPLETED, S.STOPPED, S.TESTING},
        S.COMPLETED: set(),
        S.STOPPED: {S.PLANNING},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", S.values)
def test_moving_to_the_status_it_has_changes_nothing(project, coordinator, status):
    project = _at(project, status, result="Letters now go out on booking.")
    assert services.change_project_status(project=project, status=status, by=coordinator)
    project.refresh_from_db()
    assert project.status == status


@pytest.mark.django_db
@pytest.mark.parametrize("now", [S.TESTING, S.SUSTAINING])
def test_completing_needs_a_result(project, coordinator, now):
    project = _at(project, now, result="   \n")
    with pytest.raises(ProjectError, match="Write what happened before completing the project"):
        services.change_project_status(project=project, status=S.COMPLETED, by=coordinator)
    project.refresh_from_db()
    assert project.status == now and project.ends_on is None


@pytest.mark.django_db
def test_starting_and_ending_set_the_dates(project, coordinator):
    today = timezone.localdate()
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    project.refresh_from_db()
    assert (project.starts_on, project.ends_on) == (today, None)
    services.change_project_status(project=project, status=S.STOPPED, by=coordinator)
    project.refresh_from_db()
    assert (project.starts_on, project.ends_on) == (today, today)


@pytest.mark.django_db
def test_a_stopped_project_planned_again_has_no_end_date(project, coordinator):
    """Stopped, then back to planning and testing: the project has not ended, so the page
    must not say "ended …" beside "Testing changes"."""
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    services.change_project_status(project=project, status=S.STOPPED, by=coordinator)
    services.change_project_status(project=project, status=S.PLANNING, by=coordinator)
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    project.refresh_from_db()
    assert project.status == S.TESTING
    assert project.ends_on is None


@pytest.mark.django_db
def test_an_archived_community_refuses_status_changes(project, community, coordinator):
    Community.objects.filter(pk=community.pk).update(status=Community.Status.ARCHIVED)
    project.community.refresh_from_db()
    with pytest.raises(ArchivedError, match="archived"):
        services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    project.refresh_from_db()
    assert project.status == S.PLANNING


@pytest.mark.django_db
def test_the_status_form_says_why_a_change_is_refused(client, project, coordinator):
    client.force_login(coordinator)
    url = reverse("improvement:project_status", args=[project.community.slug, project.pk])
    page = client.post(url, {"status": "completed"}, follow=True).content.decode()
    assert "That status is not one this project can move to now." in page
    page = client.post(url, {"status": "testing"}, follow=True).content.decode()
    assert "The project&#x27;s status is changed." in page
    page = client.post(url, {"status": "completed"}, follow=True).content.decode()
    assert "Write what happened before completing the project." in page
    project.refresh_from_db()
    assert project.status == S.TESTING
    # The form offers only the statuses the table allows from here.
    for status in Project.NEXT_STATUSES[S.TESTING]:
        assert f'value="{status}"' in page
    assert 'value="planning"' not in page


# --- What the status does to the linked ideas ------------------------------------------------


@pytest.fixture
def ideas(db, community, member, coordinator):
    return {
        status: idea_in(status, community, author=member, by=coordinator)
        for status in [
            "new",
            "considering",
            "prioritised",
            "in_progress",
            "done",
            "not_taken_forward",
            "merged",
        ]
    }


def _events(idea):
    return list(
        IdeaEvent.objects.filter(idea=idea, kind=IdeaEvent.Kind.STATUS, note__contains="Project")
        .order_by("pk")
        .values_list("status", "actor", "note")
    )


NOTE = "Project “Letters on time”"


@pytest.mark.django_db
def test_starting_puts_the_prioritised_ideas_in_progress_and_leaves_the_rest(
    project, ideas, coordinator, partner
):
    project.ideas.set(ideas.values())
    services.change_project_status(project=project, status=S.TESTING, by=partner)
    now = {s: Idea.objects.get(pk=i.pk).status for s, i in ideas.items()}
    # A project never decides for the community what to take forward: ideas not yet
    # prioritised stay as they are.
    assert now == {
        "new": "new",
        "considering": "considering",
        "prioritised": "in_progress",
        "in_progress": "in_progress",
        "done": "done",
        "not_taken_forward": "not_taken_forward",
        "merged": "merged",
    }
    assert _events(ideas["prioritised"]) == [("in_progress", partner.pk, NOTE)]
    for untouched in ["new", "considering", "in_progress", "done", "not_taken_forward", "merged"]:
        assert _events(ideas[untouched]) == [], untouched


@pytest.mark.django_db
def test_testing_again_after_sustaining_moves_nothing_twice(project, ideas, coordinator):
    project.ideas.set([ideas["prioritised"]])
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    services.change_project_status(project=project, status=S.SUSTAINING, by=coordinator)
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    assert [s for s, _a, _n in _events(ideas["prioritised"])] == ["in_progress"]


@pytest.mark.django_db
def test_completing_with_a_result_marks_the_ideas_done(project, ideas, coordinator):
    project.ideas.set([ideas["prioritised"], ideas["merged"], ideas["not_taken_forward"]])
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    project.ideas.add(ideas["new"], ideas["done"])
    Project.objects.filter(pk=project.pk).update(result="Letters now go out on booking.")
    services.change_project_status(project=project, status=S.COMPLETED, by=coordinator)
    now = {s: Idea.objects.get(pk=i.pk).status for s, i in ideas.items()}
    assert now["prioritised"] == now["done"] == "done"
    assert now["new"] == "new"
    assert now["merged"] == "merged" and now["not_taken_forward"] == "not_taken_forward"
    assert [s for s, _a, _n in _events(ideas["prioritised"])] == ["in_progress", "done"]
    assert _events(ideas["new"]) == [] and _events(ideas["done"]) == []
    project.refresh_from_db()
    assert project.status == S.COMPLETED and project.ends_on == timezone.localdate()


@pytest.mark.django_db
def test_a_refused_completion_moves_no_ideas(project, ideas, coordinator):
    project.ideas.set([ideas["prioritised"]])
    services.change_project_status(project=project, status=S.TESTING, by=coordinator)
    with pytest.raises(ProjectError):
        services.change_project_status(project=project, status=S.COMPLETED, by=coordinator)
    assert Idea.objects.get(pk=ideas["prioritised"].pk).status == "in_progress"


# --- The team --------------------------------------------------------------------------------


def _team(project):
    return sorted(project.team.values_list("user__email", "role"))


@pytest.mark.django_db
def test_the_starter_leads_and_members_can_be_added_changed_and_taken_off(
    project, coordinator, member, partner
):
    assert _team(project) == [(coordinator.email, "lead")]
    services.set_team_member(project=project, user=member, role=TeamMember.Role.MEMBER)
    services.set_team_member(project=project, user=partner, role=TeamMember.Role.LEAD)
    services.set_team_member(project=project, user=member, role=TeamMember.Role.LEAD)
    assert _team(project) == [
        (coordinator.email, "lead"),
        (member.email, "lead"),
        (partner.email, "lead"),
    ]
    services.set_team_member(project=project, user=member, role=None)
    services.set_team_member(project=project, user=coordinator, role=None)
    assert _team(project) == [(partner.email, "lead")]
    services.set_team_member(project=project, user=member, role=None)  # not on it: no change
    assert _team(project) == [(partner.email, "lead")]


@pytest.mark.django_db
def test_the_only_lead_cannot_be_taken_off(project, coordinator, member):
    services.set_team_member(project=project, user=member, role=TeamMember.Role.MEMBER)
    with pytest.raises(ProjectError, match="A project needs a lead"):
        services.set_team_member(project=project, user=coordinator, role=None)
    assert _team(project) == sorted([(coordinator.email, "lead"), (member.email, "member")])


@pytest.mark.django_db
def test_the_only_lead_cannot_be_made_a_plain_team_member(project, coordinator, member):
    """Changing the only lead's role to "team member" leaves the project with no lead, just as
    taking them off would."""
    services.set_team_member(project=project, user=member, role=TeamMember.Role.MEMBER)
    with pytest.raises(ProjectError, match="A project needs a lead"):
        services.set_team_member(project=project, user=coordinator, role=TeamMember.Role.MEMBER)
    assert project.team.filter(role=TeamMember.Role.LEAD).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "other_coordinator", "left", "requested"])
def test_only_active_members_of_the_community_join_the_team(
    request, community, project, coordinator, who
):
    if who in ("left", "requested"):
        person = new_member(community, f"{who}@example.org", status=who)
    else:
        person = request.getfixturevalue(who)
    with pytest.raises(ProjectError, match="Only active members of the community"):
        services.set_team_member(project=project, user=person, role=TeamMember.Role.MEMBER)
    assert _team(project) == [(coordinator.email, "lead")]


@pytest.mark.django_db
def test_the_team_page_says_why_the_only_lead_stays(client, project, coordinator):
    client.force_login(coordinator)
    lead = project.team.get()
    response = client.post(
        reverse("improvement:project_team", args=[project.community.slug, project.pk]),
        {"remove": str(lead.pk)},
    )
    assert "A project needs a lead. Make someone else lead first." in response.content.decode()
    assert _team(project) == [(coordinator.email, "lead")]


# --- Publishing the result -------------------------------------------------------------------


@pytest.fixture
def contributors(db, community, coordinator, member, partner):
    """Two linked ideas; a third merged into the first; and who gave, backed or discussed
    them. `member` wrote one idea and backs the other: told once."""
    supporter = new_member(community, "sam@example.org", name="Sam")
    commenter = new_member(community, "cal@example.org", name="Cal")
    merged_author = new_member(community, "meg@example.org", name="Meg")
    bystander = new_member(community, "bo@example.org", name="Bo")
    first = services.add_idea(
        community=community, by=member, title="Letters sooner", description="Please."
    )
    second = services.add_idea(
        community=community, by=partner, title="Text reminders", description="Please."
    )
    merged = services.add_idea(
        community=community, by=merged_author, title="Earlier letters", description="Same."
    )
    services.support_idea(idea=first, user=supporter)
    services.support_idea(idea=second, user=member)
    services.add_comment(idea=second, user=commenter, text="Yes, by text please.")
    services.merge_ideas(source=merged, target=first, by=coordinator, note="The same")
    services.add_idea(community=community, by=bystander, title="Unrelated", description="d")
    return {
        "ideas": [first, second],
        "merged": merged,
        "told": sorted(p.email for p in [member, partner, supporter, commenter, merged_author]),
    }


@pytest.mark.django_db
def test_publishing_needs_a_result(project, coordinator, contributors):
    project.ideas.set(contributors["ideas"])
    with pytest.raises(ProjectError, match="Write what happened before publishing the result"):
        services.publish_result(project=project, by=coordinator)
    assert not Update.objects.exists() and not Notification.objects.exists()


@pytest.mark.django_db
def test_publishing_needs_linked_ideas(project, coordinator):
    Project.objects.filter(pk=project.pk).update(result="Letters now go out on booking.")
    with pytest.raises(ProjectError, match="Link the ideas this project put into practice"):
        services.publish_result(project=project, by=coordinator)
    assert not Update.objects.exists()


@pytest.mark.django_db
def test_publishing_tells_every_contributor_once_and_links_the_update_to_the_project(
    project, coordinator, contributors, mailoutbox, django_capture_on_commit_callbacks
):
    project.ideas.set(contributors["ideas"])
    Project.objects.filter(pk=project.pk).update(result="Letters now go out on booking.")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.publish_result(project=project, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.publish_result(project=project, by=coordinator)
    assert first.published and not again.published
    assert sorted(address for m in mailoutbox for address in m.to) == contributors["told"]
    assert all("What came of “Letters on time”" in m.subject for m in mailoutbox)
    update = Update.objects.get()
    assert update.told_count == 5
    assert update.project == project and update.is_published
    assert list(project.updates.all()) == [update]
    assert sorted(update.ideas.values_list("pk", flat=True)) == sorted(
        i.pk for i in contributors["ideas"]
    )
    assert update.what_we_did == "Letters now go out on booking."
    assert "• Letters sooner" in update.what_we_heard and "• Text reminders" in update.what_we_heard
    project.refresh_from_db()
    assert project.result_published_at is not None
    assert IdeaEvent.objects.filter(kind=IdeaEvent.Kind.UPDATED).count() == 2


@pytest.mark.django_db
def test_the_project_page_shows_the_published_result_and_the_update(
    client, project, coordinator, contributors
):
    project.ideas.set(contributors["ideas"])
    Project.objects.filter(pk=project.pk).update(result="Letters now go out on booking.")
    page = client.get(project.get_absolute_url()).content.decode()
    assert "5 people gave, supported or discussed these ideas" in page
    assert "Letters now go out on booking." not in page  # not published yet
    services.publish_result(project=project, by=coordinator)
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Letters now go out on booking." in page
    assert "What came of “Letters on time”" in page


# --- Driver diagrams -------------------------------------------------------------------------


def _tree(nodes):
    return [(n.text, _tree(n.children)) for n in nodes]


def test_parse_drivers_reads_indents_tabs_bullets_and_blank_lines():
    text = (
        "- Booking\n"
        "  - Letters printed late\n"
        "\n"
        "    * Print on booking\n"
        "    • Post second class\n"
        "\tStaff rota\n"
        "   \n"
        "Staff time\n"
        "\t\tOne more\n"  # a jump: refused below
    )
    with pytest.raises(charts.DriverError) as refused:
        charts.parse_drivers(text)
    assert refused.value.problems == ["Line 9: indented more than one level below the line above."]
    roots = charts.parse_drivers(text.replace("\t\tOne more\n", "\tOne more\n"))
    assert _tree(roots) == [
        (
            "Booking",
            [
                ("Letters printed late", [("Print on booking", []), ("Post second class", [])]),
                ("Staff rota", []),
            ],
        ),
        ("Staff time", [("One more", [])]),
    ]
    assert [n.level for n in roots] == [1, 1]
    assert roots[0].children[0].children[0].level == 3
    assert charts.parse_drivers("") == [] and charts.parse_drivers("\n  \n") == []


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("Booking\n Letters", ["Line 2: indent by two spaces per level."]),
        ("Booking\n   Letters", ["Line 2: indent by two spaces per level."]),
        ("Booking\n\t Letters", ["Line 2: indent by two spaces per level."]),
        ("A\n  B\n    C\n      D", ["Line 4: too deep. Use three levels: primary drivers, "
                                    "secondary drivers, change ideas."]),
        ("A\n  B\n    C\n\t\t\tD", ["Line 4: too deep. Use three levels: primary drivers, "
                                     "secondary drivers, change ideas."]),
        ("  B", ["Line 1: indented more than one level below the line above."]),
        ("A\n    C", ["Line 2: indented more than one level below the line above."]),
        ("A\n\t\tC", ["Line 2: indented more than one level below the line above."]),
        ("A\n\n\n    C\n B\nD\n  E\n      F",
         ["Line 4: indented more than one level below the line above.",
          "Line 5: indent by two spaces per level.",
          "Line 8: too deep. Use three levels: primary drivers, secondary drivers, change "
          "ideas."]),
    ],
)  # fmt: skip
def test_parse_drivers_refuses_bad_indents_with_line_numbers(text, problems):
    with pytest.raises(charts.DriverError) as refused:
        charts.parse_drivers(text)
    assert refused.value.problems == problems


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def test_a_bullet_with_no_words_is_not_drawn_as_an_empty_box():
    """A line that is only a bullet ("- ") has no words: skipped like a blank line, or
    refused with its line number; never an empty driver."""
    text = "- Booking\n  - \n- Staff time"
    try:
        roots = charts.parse_drivers(text)
    except charts.DriverError as refused:
        assert any(p.startswith("Line 2:") for p in refused.problems)
    else:
        assert all(node.text for node in _walk(roots)), _tree(roots)


def test_layout_places_each_parent_level_with_the_middle_of_its_children():
    roots = charts.parse_drivers(
        "Booking\n  Letters late\n    Print on booking\n    Post sooner\n  Staff rota\nStaff time"
    )
    top, nodes, width, height = charts.layout("Letters arrive in time", roots)
    row = charts.BOX_H + charts.GAP_Y
    column = charts.BOX_W + charts.GAP_X
    by_text = {n.text: n for n in nodes}
    assert [n.text for n in nodes] == [
        "Letters arrive in time",
        "Booking",
        "Letters late",
        "Print on booking",
        "Post sooner",
        "Staff rota",
        "Staff time",
    ]
    # Leaves take a row each, top to bottom.
    assert [
        by_text[t].y for t in ["Print on booking", "Post sooner", "Staff rota", "Staff time"]
    ] == [0, row, 2 * row, 3 * row]
    assert by_text["Letters late"].y == row / 2
    assert by_text["Booking"].y == (row / 2 + 2 * row) / 2
    assert top.y == (by_text["Booking"].y + 3 * row) / 2
    for node in nodes:
        assert node.x == node.level * column
        if node.children:
            first, last = node.children[0].y, node.children[-1].y
            assert first <= node.y <= last
            assert node.y == (first + last) / 2
    assert (width, height) == (4 * column, 4 * row)
    links = charts.driver_links(nodes)
    assert len(links) == len(nodes) - 1
    assert links[0] == (
        charts.BOX_W,
        top.y + charts.BOX_H / 2,
        column,
        by_text["Booking"].y + charts.BOX_H / 2,
    )


def test_layout_of_an_aim_with_no_drivers():
    top, nodes, width, height = charts.layout("Aim", [])
    assert nodes == [top] and (top.x, top.y) == (0, 0)
    assert (width, height) == (charts.BOX_W + charts.GAP_X, charts.BOX_H + charts.GAP_Y)
    assert charts.driver_links(nodes) == []


# --- Explaining signals ----------------------------------------------------------------------

POINTS = weekly([1, 2, 3, 4, 5, 6, 7, 8])  # 5 Jan to 23 Feb 2026


@pytest.mark.parametrize(
    ("signal", "words"),
    [
        (spc.Signal("shift", [0, 1, 2, 3, 4, 5], "up"),
         "A shift: 6 points in a row above the median, from 5 Jan 2026 to 9 Feb 2026."),
        (spc.Signal("shift", [1, 2, 3, 4, 5, 6, 7], "down"),
         "A shift: 7 points in a row below the median, from 12 Jan 2026 to 23 Feb 2026."),
        (spc.Signal("trend", [0, 1, 2, 3, 4], "up"),
         "A trend: 5 points in a row going up, from 5 Jan 2026 to 2 Feb 2026."),
        (spc.Signal("trend", [3, 4, 5, 6, 7], "down"),
         "A trend: 5 points in a row going down, from 26 Jan 2026 to 23 Feb 2026."),
        (spc.Signal("runs", [], "few"),
         "Too few runs: the points stay on one side of the median longer than chance would "
         "explain."),
        (spc.Signal("runs", [], "many"),
         "Too many runs: the points cross the median more often than chance would explain."),
        (spc.Signal("beyond", [3], "up"), "A point above the process limits on 26 Jan 2026."),
        (spc.Signal("beyond", [0], "down"), "A point below the process limits on 5 Jan 2026."),
        (spc.Signal("run", [0, 1, 2, 3, 4, 5, 6], "up"),
         "7 points in a row above the mean, from 5 Jan 2026 to 16 Feb 2026."),
        (spc.Signal("run", [1, 2, 3, 4, 5, 6, 7], "down"),
         "7 points in a row below the mean, from 12 Jan 2026 to 23 Feb 2026."),
        (spc.Signal("xmr_trend", [0, 1, 2, 3, 4, 5, 6], "up"),
         "7 points in a row each higher than the one before, from 5 Jan 2026 to 16 Feb 2026."),
        (spc.Signal("xmr_trend", [1, 2, 3, 4, 5, 6, 7], "down"),
         "7 points in a row each lower than the one before, from 12 Jan 2026 to 23 Feb 2026."),
        (spc.Signal("two_of_three", [2, 4], "up"),
         "Two of three points in a row near the upper process limit, from 19 Jan 2026 to "
         "2 Feb 2026."),
        (spc.Signal("two_of_three", [5, 6], "down"),
         "Two of three points in a row near the lower process limit, from 9 Feb 2026 to "
         "16 Feb 2026."),
    ],
)  # fmt: skip
def test_explain_says_each_rule_in_words(signal, words):
    assert charts.explain(signal, POINTS) == words


# --- Drawing run and XmR charts --------------------------------------------------------------


def _measure(chart="run", **fields) -> Measure:
    return Measure(name="Letters on time", definition="d", kind="outcome", chart=chart, **fields)


def _cycle(change, starts_on) -> Cycle:
    return Cycle(change=change, prediction="p", measuring="m", starts_on=starts_on)


SHIFTED = [40, 42, 41, 39, 40, 43, 41, 40, 60, 62, 61, 63, 64, 62, 65]


def test_draw_a_run_chart_marks_the_points_of_each_signal():
    # Median 43 (the 6th point, on the line: neither counts nor breaks); 7 below, then 7 above.
    points = weekly(SHIFTED)
    drawing = charts.draw(_measure("run"), list(reversed(points)))
    assert drawing.kind == "run" and drawing.title == "Run chart of Letters on time"
    assert [m.point for m in drawing.marks] == points  # drawn in date order
    assert [m.signal for m in drawing.marks] == [i != 5 for i in range(15)]
    xs = [m.x for m in drawing.marks]
    assert xs == sorted(xs) and xs[0] == charts.LEFT and xs[-1] == charts.WIDTH - charts.RIGHT
    assert [(line.kind, line.label) for line in drawing.lines] == [("centre", "Median 43")]
    summary = " ".join(drawing.summary)
    assert "15 points from 5 Jan 2026 to 13 Apr 2026. The median is 43." in summary
    assert "A shift: 7 points in a row below the median, from 5 Jan 2026 to 23 Feb 2026." in summary
    assert "A shift: 7 points in a row above the median, from 2 Mar 2026 to 13 Apr 2026." in summary
    # A point higher on the chart has a smaller y.
    assert drawing.marks[8].y < drawing.marks[7].y


def test_draw_a_run_chart_with_no_signal_says_so():
    drawing = charts.draw(_measure("run"), weekly([5, 6, 5, 6, 5, 6]))
    assert not any(m.signal for m in drawing.marks)
    assert "No signals: the variation looks like chance so far." in drawing.summary


def test_draw_an_xmr_chart_marks_a_point_beyond_the_limits():
    # Alternating 10 and 16 (mean 15.2 with the outlier) and one 60: the moving ranges are
    # seventeen 6s and two 50s, averaging 202 / 19 = 10.63. Screening leaves out the two
    # 50s (3.267 × 10.63 = 34.7 or more), so the limits are 15.2 ± 2.66 × 6: -0.76 to 31.16.
    values = [10, 16] * 10
    values[15] = 60
    points = weekly(values)
    drawing = charts.draw(_measure("xmr"), points)
    assert drawing.kind == "xmr" and drawing.title == "XmR chart of Letters on time"
    assert [m.signal for m in drawing.marks] == [i == 15 for i in range(20)]
    assert [(line.kind, line.label) for line in drawing.lines] == [
        ("centre", "Mean 15.2"),
        ("limit", "Upper limit 31.16"),
        ("limit", "Lower limit -0.76"),
    ]
    assert drawing.summary == [
        "From 5 Jan 2026: mean 15.2, process limits -0.76 to 31.16.",
        "2 jumps of 3.267 times the average jump or more were left out before working out "
        "the limits: the jumps to 20 Apr 2026, 27 Apr 2026.",
        "A point above the process limits on 20 Apr 2026.",
        "Common cause variation: nothing unusual in the latest point.",
    ]
    # Without screening, the two jumps widen the limits: -13.08 to 43.48.
    unscreened = charts.draw(_measure("xmr", screen_moving_ranges=False), points)
    assert unscreened.summary[0] == "From 5 Jan 2026: mean 15.2, process limits -13.08 to 43.48."


def test_draw_an_xmr_chart_of_few_points_says_the_limits_are_provisional():
    drawing = charts.draw(_measure("xmr", target=20), weekly([10, 12, 11, 13, 12]))
    assert "The limits are provisional: they rest on fewer than 12 points." in drawing.summary
    assert ("target", "Target 20") in [(line.kind, line.label) for line in drawing.lines]


@pytest.mark.parametrize("chart", ["run", "xmr"])
def test_cycles_are_annotated_at_their_dates_and_cycles_outside_the_data_are_left_out(chart):
    points = weekly(SHIFTED)  # 5 Jan to 13 Apr 2026
    cycles = [
        _cycle("Before the data", date(2025, 12, 1)),
        _cycle("Print on booking", points[8].when),
        _cycle("Mid-week", points[2].when + timedelta(days=3)),
        _cycle("On the first day", points[0].when),
        _cycle("On the last day", points[-1].when),
        _cycle("After the data", date(2026, 6, 1)),
    ]
    drawing = charts.draw(_measure(chart), points, cycles)
    marks = drawing.marks
    assert [(a.label, a.text) for a in drawing.annotations] == [
        ("C2", "Cycle 2 starts: Print on booking"),
        ("C3", "Cycle 3 starts: Mid-week"),
        ("C4", "Cycle 4 starts: On the first day"),
        ("C5", "Cycle 5 starts: On the last day"),
    ]
    xs = [a.x for a in drawing.annotations]
    assert xs[0] == marks[8].x
    assert xs[1] == pytest.approx(marks[2].x + 3 / 7 * (marks[3].x - marks[2].x), abs=0.1)
    assert xs[2] == marks[0].x and xs[3] == marks[-1].x


@pytest.mark.parametrize("chart", ["run", "xmr"])
@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([], "No data yet, so there is no chart to draw."),
        ([40], "Only one data point so far: a chart needs at least two."),
    ],
)
def test_fewer_than_two_points_draws_nothing_and_says_why(chart, values, reason):
    drawing = charts.draw(_measure(chart), weekly(values), [_cycle("c", START)])
    assert drawing.cannot_draw == reason and drawing.summary == [reason]
    assert drawing.marks == [] and drawing.annotations == [] and drawing.path == ""


@pytest.mark.parametrize("chart", ["run", "xmr"])
def test_all_values_equal_draws_without_dividing_by_zero(chart):
    drawing = charts.draw(_measure(chart, target=5), weekly([5, 5, 5, 5]))
    assert len(drawing.marks) == 4 and len({m.y for m in drawing.marks}) == 1
    assert not any(m.signal for m in drawing.marks)


def test_a_person_marks_an_astronomical_point_and_the_run_chart_says_so():
    measure = _measure("run")
    measure.astronomical_points = [spc.Point(date(2026, 1, 19), 99)]
    drawing = charts.draw(measure, weekly([1, 2, 99, 3]))
    assert "Astronomical point, marked by the team: 19 Jan 2026." in drawing.summary


def test_a_member_who_left_is_not_counted_as_a_team_editor(db, community, project, coordinator):
    person = new_member(community, "tia@example.org", name="Tia")
    services.set_team_member(project=project, user=person, role=TeamMember.Role.MEMBER)
    assert access.may_edit_project(person, project)
    Membership.objects.filter(user=person).update(status=Membership.Status.LEFT)
    assert not access.may_edit_project(person, project)
    assert access.may_edit_project(coordinator, project)
