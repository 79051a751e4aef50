"""An improvement project in the browser, on a phone and by keyboard: a coordinator starts a
project from a prioritised idea, adds a measure, uploads its data (a bad file first), sees the
run chart flag the shift, logs a PDSA cycle, starts testing changes and publishes the result,
and the member whose idea started it all is told what came of it."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from improvement import services
from improvement.models import Cycle, DataPoint, Idea, Measure, Project
from tests.e2e.keyboard import press, tab_to, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDEA = "Text a reminder the day before clinic"
AIM = "People with IBD come to the clinic appointments they booked"
DRIVERS = (
    "People remember the appointment\n"
    "  A reminder they notice\n"
    "    Text the day before\n"
    "    Ask which number to use\n"
    "People can get to the clinic\n"
    "  Help with transport\n"
)
RESULT = "Texting the day before lifted attendance from about 40% to about 65%, and it stays."

FIRST_WEEK = date(2026, 1, 5)
BEFORE = [38, 42, 40, 39, 41, 43, 37, 40, 42, 39, 41, 40]  # about 40%
AFTER = [63, 66, 64, 67, 65, 62, 66, 68, 64, 65, 67, 63]  # about 65%, from week 13
WEEKS = [FIRST_WEEK + timedelta(weeks=n) for n in range(24)]


def _csv(rows) -> bytes:
    return ("date,value,note\n" + "".join(f"{when},{value},\n" for when, value in rows)).encode()


def choose(page, radio, *, limit: int = 10) -> None:
    """Tab into the radio group, then move along it with the arrow keys until `radio` is
    chosen."""
    tab_to(page, page.locator(f"input[type=radio][name='{radio.get_attribute('name')}']").first)
    for _ in range(limit):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{radio} cannot be chosen with the arrow keys on {page.url}")


def fill_date(page, field, value: date) -> None:
    """Date inputs are typed differently in every locale: reach the field by keyboard, then
    fill it the way a date picker would."""
    tab_to(page, field)
    field.fill(value.isoformat())


def upload(page, name: str, content: bytes) -> None:
    """Reach the file input by keyboard; the file chooser itself belongs to the system."""
    field = page.get_by_role("region", name="Upload a CSV file").get_by_label("CSV file")
    tab_to(page, field)
    field.set_input_files({"name": name, "mimeType": "text/csv", "buffer": content})
    press(page, page.get_by_role("button", name="Upload"))


def test_a_team_starts_a_project_from_an_idea_measures_it_and_tells_its_author(
    page, live_server, mailoutbox, assert_accessible, log_in, community, coordinator, member
):
    idea = services.add_idea(
        community=community, by=member, title=IDEA, description="I forgot my last appointment."
    )
    services.decide(
        idea=idea, outcome="adopt", reason="Missed appointments waste clinic time.", by=coordinator
    )
    idea.refresh_from_db()
    assert idea.status == Idea.Status.PRIORITISED

    # The coordinator starts a project from the idea's manage page.
    log_in(page, coordinator)
    page.goto(live_server.url + f"/c/{community.slug}/manage/ideas/{idea.pk}/")
    expect(page.get_by_role("heading", name=IDEA, level=1)).to_be_visible()
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Start an improvement project from this idea"))
    expect(page.get_by_role("heading", name="Start a project", level=1)).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value(IDEA)
    expect(page.get_by_role("checkbox", name=IDEA)).to_be_checked()
    assert_accessible(page)
    type_into(page, page.get_by_label("Title"), "Fewer missed clinic appointments")
    type_into(page, page.get_by_label("Aim: what will improve"), AIM)
    type_into(page, page.get_by_label("Aim: by how much"), "from 40% to 65%")
    fill_date(page, page.get_by_label("Aim: by when"), date(2027, 3, 31))
    type_into(page, page.get_by_label("Driver diagram"), DRIVERS)
    press(page, page.get_by_role("button", name="Start the project"))

    expect(
        page.get_by_role("heading", name="Fewer missed clinic appointments", level=1)
    ).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Project started. You are its lead.")
    expect(page.get_by_text("Cora (Lead)")).to_be_visible()
    expect(page.get_by_text("from 40% to 65%, by 31 March 2027")).to_be_visible()
    drivers = page.get_by_role("region", name="Driver diagram")
    expect(drivers.get_by_text("Secondary driver: A reminder they notice")).to_be_visible()
    expect(drivers.get_by_text("Change idea: Text the day before")).to_be_visible()
    expect(drivers.get_by_role("img", name=re.compile("^Driver diagram"))).to_be_visible()
    ideas = page.get_by_role("region", name="Ideas it puts into practice")
    expect(ideas.get_by_role("listitem")).to_have_text([f"{IDEA} (Prioritised)"])
    assert_accessible(page)
    project = Project.objects.get()
    assert project.aim_by_when == date(2027, 3, 31)
    assert list(project.ideas.all()) == [idea]

    # A measure, with a run chart.
    press(page, page.get_by_role("link", name="Add a measure"))
    expect(page.get_by_role("heading", name="Add a measure", level=1)).to_be_visible()
    assert_accessible(page)
    type_into(page, page.get_by_label("Name"), "Appointments kept")
    type_into(
        page,
        page.get_by_label("Definition"),
        "Of the week's booked IBD clinic appointments, the share the person came to.",
    )
    choose(page, page.get_by_role("radio", name="Outcome"))
    type_into(page, page.get_by_label("Unit"), "%")
    type_into(page, page.get_by_label("Target"), "65")
    choose(page, page.get_by_role("radio", name="Run chart"))
    press(page, page.get_by_role("button", name="Save"))
    expect(page.get_by_role("heading", name="Data: Appointments kept", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Measure saved. Add its data next.")
    expect(page.get_by_text("No data yet, so there is no chart to draw.")).to_be_visible()
    assert_accessible(page)
    measure = Measure.objects.get()
    assert (measure.kind, measure.chart, measure.target) == ("outcome", "run", 65)

    # A file with a bad date on line 3: every problem is listed, and nothing is imported.
    bad = _csv(zip(WEEKS, BEFORE + AFTER, strict=True)).replace(
        WEEKS[1].isoformat().encode(), b"12/01/2026"
    )
    upload(page, "points.csv", bad)
    problems = page.get_by_role("alert").filter(has_text="Nothing was imported")
    expect(problems).to_contain_text("Line 3: “12/01/2026” is not a date like 2026-03-31.")
    expect(problems.get_by_role("listitem")).to_have_count(1)
    expect(page.get_by_text("No points yet.")).to_be_visible()
    assert_accessible(page)
    assert not DataPoint.objects.exists()

    # The right file: 24 weekly points, about 40% for 12 weeks and then about 65%.
    upload(page, "points.csv", _csv(zip(WEEKS, BEFORE + AFTER, strict=True)))
    expect(page.get_by_role("status")).to_contain_text("24 points imported.")
    points = page.get_by_role("region", name=re.compile("^Points"))
    expect(points.get_by_role("row")).to_have_count(25)
    expect(page.locator("figure.chart figcaption")).to_contain_text("A shift")
    assert_accessible(page)
    assert DataPoint.objects.filter(measure=measure).count() == 24

    press(page, page.get_by_role("link", name="Fewer missed clinic appointments"))
    measure_section = page.get_by_role("region", name="Appointments kept")
    summary = measure_section.locator("figure.chart figcaption")
    expect(summary).to_contain_text(
        "A shift: 12 points in a row above the median, from 30 Mar 2026 to 15 Jun 2026."
    )
    expect(summary).to_contain_text(
        "A shift: 12 points in a row below the median, from 5 Jan 2026 to 23 Mar 2026."
    )
    chart = measure_section.get_by_role("img", name="Run chart of Appointments kept")
    expect(chart).to_be_visible()
    expect(measure_section.locator("svg rect.chart__mark--signal")).to_have_count(24)
    # The data beside the chart, folded away until asked for; it scrolls within its region.
    press(page, measure_section.get_by_text("The data: 24 points"))
    table = measure_section.get_by_role("region", name=re.compile("^Data for Appointments kept"))
    expect(table.get_by_role("row")).to_have_count(25)
    expect(table.get_by_role("row").nth(13)).to_contain_text("30 Mar 2026")
    assert_accessible(page)

    # A PDSA cycle that started just before the shift.
    press(page, page.get_by_role("link", name="Log a PDSA cycle"))
    expect(page.get_by_role("heading", name="Log a PDSA cycle", level=1)).to_be_visible()
    assert_accessible(page)
    type_into(page, page.get_by_label("Plan: the change we will test"), "Text the day before")
    type_into(
        page,
        page.get_by_label("Plan: what we predict will happen"),
        "More people will come, because they will remember.",
    )
    type_into(page, page.get_by_label("Plan: what we will measure"), "Appointments kept")
    fill_date(page, page.get_by_label("Starts"), date(2026, 3, 25))
    press(page, page.get_by_role("button", name="Save"))
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/#cycles$"))
    expect(page.get_by_role("status")).to_contain_text("Cycle saved.")
    cycles = page.get_by_role("region", name="PDSA cycles")
    expect(cycles.get_by_role("heading", name="Cycle 1: Text the day before")).to_be_visible()
    expect(cycles).to_contain_text("25 March 2026")
    marker = page.get_by_role("region", name="Appointments kept").locator(
        "svg text.chart__cycle-label"
    )
    expect(marker).to_have_text(["C1"])
    assert_accessible(page)
    assert Cycle.objects.get().starts_on == date(2026, 3, 25)

    # Testing changes puts the idea in progress.
    status = page.get_by_label("Move the project to")
    tab_to(page, status)
    status.select_option(label="Testing changes")
    press(page, page.get_by_role("button", name="Change the status"))
    expect(page.get_by_role("status")).to_contain_text("The project's status is changed.")
    expect(page.locator("dd .idea-status")).to_have_text("Testing changes")
    expect(
        page.get_by_role("region", name="Ideas it puts into practice").get_by_role("listitem")
    ).to_have_text([f"{IDEA} (In progress)"])
    assert_accessible(page)
    idea.refresh_from_db()
    assert idea.status == Idea.Status.IN_PROGRESS

    # The result, published to the idea's author.
    mailoutbox.clear()
    press(page, page.get_by_role("link", name="Result", exact=True))
    expect(page.get_by_role("heading", name="What happened", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile(r"sends it as an update to 1 person\b"))).to_be_visible()
    assert_accessible(page)
    type_into(page, page.get_by_label("What happened"), RESULT)
    press(page, page.get_by_role("button", name="Save and publish the result"))
    expect(
        page.get_by_role("heading", name="Fewer missed clinic appointments", level=1)
    ).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "Result published. Everyone whose ideas led here is being told, each once"
    )
    expect(page.get_by_role("region", name="What happened")).to_contain_text(RESULT)
    updates = page.get_by_role("region", name="Updates")
    expect(updates.get_by_role("link")).to_have_text(
        ["What came of “Fewer missed clinic appointments”"]
    )
    assert_accessible(page)

    told = [m for m in mailoutbox if "What came of" in m.subject]
    assert [m.to for m in told] == [[member.email]]
    assert "Fewer missed clinic appointments" in told[0].subject
    assert RESULT in told[0].body

    # The idea's page lists the update.
    page.goto(live_server.url + idea.get_absolute_url())
    expect(page.get_by_role("heading", name=IDEA, level=1)).to_be_visible()
    what_we_did = page.get_by_role("region", name="What we did")
    expect(
        what_we_did.get_by_role("link", name="What came of “Fewer missed clinic appointments”")
    ).to_be_visible()
    expect(what_we_did).to_contain_text(RESULT)
    assert_accessible(page)
