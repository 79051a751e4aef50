"""Improvement projects: from an idea to a result its contributors hear about."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from improvement import services
from improvement.models import DataPoint, Idea, Measure, Project, ProjectError
from tests.improvement.factories import adopted_idea, letters_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member, coordinator):
    return adopted_idea(community, by=member, decided_by=coordinator)


@pytest.fixture
def project(community, coordinator, idea):
    return letters_project(
        community,
        by=coordinator,
        ideas=[idea],
        driver_diagram="Booking\n  Letters printed late\n    Print on booking\nStaff time",
    )


@pytest.fixture
def measure(project):
    return Measure.objects.create(
        project=project,
        name="Letters on time",
        definition="Share of letters",
        kind="outcome",
        unit="%",
        target=90,
    )


def test_starting_and_completing_moves_the_ideas(project, idea, coordinator):
    services.change_project_status(project=project, status="testing", by=coordinator)
    idea.refresh_from_db()
    assert idea.status == Idea.Status.IN_PROGRESS
    with pytest.raises(ProjectError, match="Write what happened"):
        services.change_project_status(project=project, status="completed", by=coordinator)
    Project.objects.filter(pk=project.pk).update(result="Letters now go out on booking.")
    services.change_project_status(project=project, status="completed", by=coordinator)
    idea.refresh_from_db()
    assert idea.status == Idea.Status.DONE


def test_a_csv_with_any_bad_row_imports_nothing_and_says_which_lines(measure):
    content = b"date,value,note\n2026-01-05,40,\n2026-13-01,41,\n2026-01-19,abc,\n2026-01-05,42,\n"
    count, problems = services.import_points(measure=measure, content=content)
    assert count == 0 and not DataPoint.objects.exists()
    assert [p.line for p in problems] == [3, 4, 5]
    count, problems = services.import_points(
        measure=measure, content=b"date,value\n2026-01-19,44\n2026-01-05,40\n"
    )
    assert (count, problems) == (2, [])
    assert [p.when for p in measure.points.all()] == [date(2026, 1, 5), date(2026, 1, 19)]


def test_wrong_columns_are_refused(measure):
    _count, problems = services.import_points(measure=measure, content=b"day,amount\n1,2\n")
    assert problems[0].line == 1 and "date, value" in problems[0].message


def test_a_duplicate_date_is_refused(measure):
    services.add_point(measure=measure, when=date(2026, 1, 5), value=40)
    with pytest.raises(ProjectError, match="already a value"):
        services.add_point(measure=measure, when=date(2026, 1, 5), value=41)


def test_the_project_page_draws_the_chart_and_the_driver_diagram(client, project, measure):
    start = date(2026, 1, 5)
    for week, value in enumerate([40, 42, 41, 39, 40, 43, 41, 40, 60, 62, 61, 63, 64, 62, 65]):
        DataPoint.objects.create(measure=measure, when=start + timedelta(weeks=week), value=value)
    page = client.get(project.get_absolute_url())
    text = page.content.decode()
    assert page.status_code == 200
    assert "Run chart of Letters on time" in text and "A shift" in text
    assert "Primary driver: Booking" in text and "Change idea: Print on booking" in text


def test_publishing_the_result_tells_the_ideas_contributors_once(
    client, project, coordinator, member, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    url = reverse("improvement:project_result", args=[project.community.slug, project.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url, {"result": "Letters now go out when the appointment is booked.", "publish": "1"}
        )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url, {"result": "Letters now go out when the appointment is booked.", "publish": "1"}
        )
    assert [m.to for m in mailoutbox] == [[member.email]]
    assert "What came of “Letters on time”" in mailoutbox[0].subject


def test_the_csv_upload_page_lists_problems_and_keeps_nothing(
    client, project, measure, coordinator
):
    client.force_login(coordinator)
    url = reverse(
        "improvement:project_measure_data", args=[project.community.slug, project.pk, measure.pk]
    )
    upload = SimpleUploadedFile("points.csv", b"date,value\nyesterday,3\n", "text/csv")
    response = client.post(url, {"upload": "1", "file": upload})
    assert response.status_code == 400
    assert "Line 2" in response.content.decode()
    assert not DataPoint.objects.exists()


def test_only_the_team_and_coordinators_edit(client, project, member, partner, coordinator):
    url = reverse("improvement:project_edit", args=[project.community.slug, project.pk])
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(coordinator)
    assert client.get(url).status_code == 200
    assert Project.objects.count() == 1


@pytest.mark.parametrize(
    "content, words",
    [
        (b"date,value,note\n2026-01-01,1,a\x00b\n", "not plain text"),
        (b'date,value\n2026-01-01,"' + b"x" * 140_000 + b'"\n', "cannot be read as CSV"),
        (b"date,value\n2026-01-01,1,surprise\n", "more cells"),
        (b"date,value\n2026-01-01,1_000\n", "not a number like 42"),
        (b"date,value\n2026-01-01,1e308\n", "million million"),
        (b"date,value\n2026-01-01,5e-324\n", "too small to draw"),
    ],
)
def test_hostile_csv_files_are_refused_with_a_message(measure, content, words):
    count, problems = services.import_points(measure=measure, content=content)
    assert count == 0 and not DataPoint.objects.exists()
    assert words in " ".join(str(p) for p in problems)


def test_huge_values_are_refused_by_the_form_and_never_break_the_page(
    client, project, measure, coordinator
):
    client.force_login(coordinator)
    url = reverse(
        "improvement:project_measure_data", args=[project.community.slug, project.pk, measure.pk]
    )
    response = client.post(url, {"add_point": "1", "when": "2026-01-05", "value": "1e308"})
    assert response.status_code == 400 and not DataPoint.objects.exists()
    # Saved some other way (the admin, a shell): the page explains instead of failing.
    for day, value in ((5, 1e17), (12, 1e17)):
        DataPoint.objects.create(measure=measure, when=date(2026, 1, day), value=value)
    assert client.get(project.get_absolute_url()).status_code == 200
    DataPoint.objects.all().delete()
    for day, value in ((5, 1e308), (12, -1e308)):
        DataPoint.objects.create(measure=measure, when=date(2026, 1, day), value=value)
    page = client.get(project.get_absolute_url())
    assert page.status_code == 200 and "too large or too small to draw" in page.content.decode()


def test_an_oversized_upload_is_refused_without_being_read_whole(
    client, project, measure, coordinator
):
    client.force_login(coordinator)
    url = reverse(
        "improvement:project_measure_data", args=[project.community.slug, project.pk, measure.pk]
    )
    big = b"date,value\n" + b"2026-01-01,1\n" * 60_000
    response = client.post(url, {"upload": "1", "file": SimpleUploadedFile("big.csv", big)})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
