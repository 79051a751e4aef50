"""Improvement projects: the public view of what is being tried, and the team's pages for
aims, cycles, measures and data."""

import csv
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communities.access import get_membership, may_coordinate, refused_as_archived
from communities.models import Community
from improvement import access, charts, loop, services, spc
from improvement.forms import (
    CsvForm,
    CycleForm,
    MeasureForm,
    PointForm,
    ProjectForm,
    ProjectStatusForm,
    ResultForm,
    TeamForm,
)
from improvement.models import Cycle, DataPoint, Idea, Measure, Project
from members import revisions
from members.choosing import finding, typed, words_to_find
from members.computed import computed, version_of
from members.personal_data import csv_cell

PROJECTS_PER_PAGE = 20
# Beside each chart on the project page: the latest points. All of them are a link away, a
# page of this many at a time, and in a CSV file.
TABLE_ROWS_ON_PAGE = 25
TABLE_ROWS_PER_PAGE = 100
# Points to change (each with its buttons) a page at a time.
DATA_ROWS_PER_PAGE = 25
# What is being tried now first, then plans, then what is finished.
_STATUS_ORDER = Case(
    *[
        When(status=status, then=Value(position))
        for position, status in enumerate(
            [
                Project.Status.TESTING,
                Project.Status.SUSTAINING,
                Project.Status.PLANNING,
                Project.Status.COMPLETED,
                Project.Status.STOPPED,
            ]
        )
    ],
    output_field=IntegerField(),
)


def project_list(request, slug):
    """What the community is trying now, then what it has done."""
    community = get_object_or_404(Community, slug=slug)
    projects = (
        Project.objects.filter(community=community)
        .annotate(
            n_ideas=Count("ideas", distinct=True), n_measures=Count("measures", distinct=True)
        )
        .order_by(_STATUS_ORDER, "-created_at")
    )
    page = Paginator(projects, PROJECTS_PER_PAGE).get_page(request.GET.get("page"))
    for project in page.object_list:
        project.community = community
    return render(
        request,
        "improvement/project_list.html",
        {
            "community": community,
            "page": page,
            "may_start": access.may_start_project(request.user, community),
        },
    )


def _project(community, pk, projects=Project.objects) -> Project:
    project = get_object_or_404(projects, community=community, pk=pk)
    project.community = community
    return project


@dataclass(frozen=True)
class MeasureSection:
    """A measure's part of the project page, drawn: its chart and the numbers beside it."""

    pk: int
    name: str
    html: str


def _measure_sections(project, cycles) -> list[MeasureSection]:
    """Every measure's chart and data table as HTML, drawn once per revision of the
    project's measures, points and cycles (and per language and web address), however many
    points they hold. The revision (`charts_revision`, read by the page first) is read
    before the cycles and the points: a change made in between is then drawn early, never
    kept under a revision newer than the data."""
    version = version_of(
        project.pk, project.charts_revision, project.community.slug, get_language()
    )

    def draw() -> list[MeasureSection]:
        sections = []
        for measure in project.measures.prefetch_related("points"):
            rows = list(measure.points.all())
            measure.astronomical_points = [
                spc.Point(p.when, p.value) for p in rows if p.astronomical
            ]
            drawing = charts.draw(measure, [spc.Point(p.when, p.value) for p in rows], cycles)
            args = [project.community.slug, project.pk, measure.pk]
            html = render_to_string(
                "improvement/includes/measure.html",
                {
                    "measure": measure,
                    "drawing": drawing,
                    "rows": rows[-TABLE_ROWS_ON_PAGE:],
                    "total": len(rows),
                    "table_url": reverse("improvement:project_measure_table", args=args),
                    "csv_url": reverse("improvement:project_measure_csv", args=args),
                },
            )
            sections.append(MeasureSection(measure.pk, measure.name, html))
        return sections

    return computed("project-measures", version, draw)


def _shown(objects, *fields) -> list[tuple]:
    """What a kept part of the page shows of each object, to keep it under: the fields
    named, or with none named every field the object has."""
    if objects and not fields:
        fields = [field.attname for field in objects[0]._meta.concrete_fields]
    return [tuple(getattr(thing, field) for field in fields) for thing in objects]


@dataclass
class ProjectRecord:
    """What a project's page shows of its cycles, the ideas it takes up, its team and its
    updates: the same for everyone, kept per revision of its charts (which its cycles
    raise), of the community's record and of people's names (`kept_as`)."""

    kept_as: str
    cycles: list
    ideas: list
    team: list
    updates: list


def _project_record(project, *, drawn: int, record: int, people: int) -> ProjectRecord:
    version = version_of(project.pk, drawn, record, people)

    def read() -> ProjectRecord:
        return ProjectRecord(
            kept_as=version,
            cycles=list(project.cycles.all()),
            ideas=list(project.ideas.order_by("title").only("pk", "title", "status")),
            team=list(
                project.team.select_related("user").only(
                    "project", "role", "user__name", "user__erased_at"
                )
            ),
            updates=list(
                project.updates.filter(status="published")
                .only("pk", "title", "published_at")
                .order_by("-published_at")
            ),
        )

    return computed("improvement-project-record", version, read)


def project_detail(request, slug, pk):
    community = get_object_or_404(Community, slug=slug)
    project = _project(community, pk)
    # Every revision the page's kept parts are kept under, in one query, before anything
    # they are made from.
    drawn, contributors, people, record = revisions.read(
        revisions.key(Project.CHARTS_REVISION, project.pk),
        revisions.key(Idea.CONTRIBUTORS_REVISION, community.pk),
        revisions.PEOPLE,
        revisions.key(Idea.RECORD_REVISION, community.pk),
    )
    project.charts_revision = drawn
    membership = get_membership(request.user, community)
    kept = _project_record(project, drawn=drawn, record=record, people=people)
    cycles, ideas, team = kept.cycles, kept.ideas, kept.team
    measures = _measure_sections(project, cycles)
    editing = access.may_change_project(request.user, project, membership)
    diagram = None
    try:
        roots = charts.parse_drivers(project.driver_diagram)
    except charts.DriverError:
        roots = []  # saved some other way with a bad indent: show the aim and no drawing
    if roots:
        top, nodes, width, height = charts.layout(project.aim_what, roots)
        diagram = {
            "nodes": nodes,
            "links": charts.driver_links(nodes),
            "width": width,
            "height": height,
            "box_w": charts.BOX_W,
            "box_h": charts.BOX_H,
        }
    return render(
        request,
        "improvement/project_detail.html",
        {
            "community": community,
            "project": project,
            "team": team,
            "cycles": cycles,
            "measures": measures,
            "ideas": ideas,
            "contributor_count": loop.contributor_count(
                community, [i.pk for i in ideas], (contributors, people)
            ),
            "updates": kept.updates,
            "diagram": diagram,
            "editing": editing,
            "coordinating": may_coordinate(request.user, community, membership),
            "status_form": ProjectStatusForm(project=project) if editing else None,
            # What the parts kept rendered show, beyond the project's own fields.
            "shown": {
                "team": [(m.user.public_name, m.role) for m in team],
                "ideas": _shown(ideas, "pk", "title", "status"),
                "cycles": _shown(cycles),
            },
        },
    )


def measure_table(request, slug, pk, measure):
    """All of a measure's data as a table, a page at a time: the project page shows the
    latest points beside the chart and links here for the rest."""
    community = get_object_or_404(Community, slug=slug)
    project = _project(community, pk)
    measure = get_object_or_404(Measure, project=project, pk=measure)
    page = Paginator(measure.points.order_by("when"), TABLE_ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "improvement/measure_table.html",
        {"community": community, "project": project, "measure": measure, "page": page},
    )


def measure_csv(request, slug, pk, measure):
    """All of a measure's data as a CSV file, streamed row by row: date, value and note as the
    upload takes them, and whether the team marked the point astronomical."""
    community = get_object_or_404(Community, slug=slug)
    project = _project(community, pk)
    measure = get_object_or_404(Measure, project=project, pk=measure)
    rows = measure.points.order_by("when").values_list("when", "value", "note", "astronomical")
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(["date", "value", "note", "astronomical"])
        for when, value, note, astronomical in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    when.isoformat(),
                    _csv_number(value),
                    csv_cell(note),
                    "yes" if astronomical else "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = slugify(measure.name) or "measure"
    response["Content-Disposition"] = f'attachment; filename="{name}-{measure.pk}.csv"'
    return response


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def team_required(view):
    """The view gets `project`; people who are neither its team nor coordinators get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, slug, pk, *args, **kwargs):
        community = get_object_or_404(Community, slug=slug)
        project = _project(community, pk)
        if not access.may_edit_project(request.user, project):
            raise PermissionDenied
        refused = refused_as_archived(request, community, project)
        if refused:
            return refused
        return view(request, project, *args, **kwargs)

    return wrapper


@login_required
def project_new(request, slug):
    community = get_object_or_404(Community, slug=slug)
    if not access.may_take_part(request.user, community):
        raise PermissionDenied
    initial = {}
    idea_id = request.GET.get("idea", "")
    if idea_id.isascii() and idea_id.isdigit():
        idea = Idea.objects.filter(community=community, pk=int(idea_id)).listed().first()
        if idea is not None:
            initial = {"ideas": [idea.pk], "title": idea.title}
    form = ProjectForm(
        request.POST or None, community=community, initial=initial, find=words_to_find(request)
    )
    if finding(request):  # other ideas listed: shown again unsaved, as typed
        form = ProjectForm(community=community, initial=typed(form), find=words_to_find(request))
    elif request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        ideas = data.pop("ideas")
        try:
            project = services.create_project(
                community=community, by=request.user, ideas=ideas, **data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Project started. You are its lead."))
            return redirect(project)
    return render(request, "improvement/project_form.html", {"community": community, "form": form})


@team_required
def project_edit(request, project):
    form = ProjectForm(
        request.POST or None,
        instance=project,
        community=project.community,
        find=words_to_find(request),
    )
    if finding(request):  # other ideas listed: shown again unsaved, as typed
        form = ProjectForm(
            instance=project,
            community=project.community,
            initial=typed(form),
            find=words_to_find(request),
        )
    elif request.method == "POST" and form.is_valid():
        services.save_project(form=form, by=request.user)
        messages.success(request, _("Project saved."))
        return redirect(project)
    return render(
        request,
        "improvement/project_form.html",
        {"community": project.community, "form": form, "project": project},
    )


@require_POST
@team_required
def project_status(request, project):
    form = ProjectStatusForm(request.POST, project=project)
    if form.is_valid():
        try:
            services.change_project_status(
                project=project, status=form.cleaned_data["status"], by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The project's status is changed."))
    else:
        messages.error(request, _("That status is not one this project can move to now."))
    return redirect(project)


@team_required
def project_team(request, project):
    if not access.may_choose_team(request.user, project):
        raise PermissionDenied
    form = TeamForm(request.POST or None, community=project.community)
    if request.method == "POST":
        remove = request.POST.get("remove", "")
        try:
            if remove.isascii() and remove.isdigit():
                member = get_object_or_404(project.team, pk=int(remove))
                services.set_team_member(project=project, user=member.user, role=None)
                messages.success(request, _("Taken off the team."))
                return redirect(
                    "improvement:project_team", slug=project.community.slug, pk=project.pk
                )
            if form.is_valid():
                services.set_team_member(
                    project=project,
                    user=form.cleaned_data["person"],
                    role=form.cleaned_data["role"],
                )
                messages.success(request, _("Team saved."))
                return redirect(
                    "improvement:project_team", slug=project.community.slug, pk=project.pk
                )
        except ValidationError as error:
            form.add_error(None, error)
    return render(
        request,
        "improvement/project_team.html",
        {
            "community": project.community,
            "project": project,
            "form": form,
            "team": project.team.select_related("user"),
        },
    )


@team_required
def cycle_edit(request, project, cycle=None):
    instance = get_object_or_404(Cycle, project=project, pk=cycle) if cycle else None
    form = CycleForm(request.POST or None, instance=instance, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_cycle(project=project, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Cycle saved."))
            return redirect(f"{project.get_absolute_url()}#cycles")
    return render(
        request,
        "improvement/project_part_form.html",
        {
            "community": project.community,
            "project": project,
            "form": form,
            "heading": _("Change the cycle") if instance else _("Log a PDSA cycle"),
        },
    )


@team_required
def measure_edit(request, project, measure=None):
    instance = get_object_or_404(Measure, project=project, pk=measure) if measure else None
    form = MeasureForm(request.POST or None, instance=instance, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_measure(project=project, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Measure saved. Add its data next."))
            return redirect(
                "improvement:project_measure_data",
                slug=project.community.slug,
                pk=project.pk,
                measure=saved.pk,
            )
    return render(
        request,
        "improvement/project_part_form.html",
        {
            "community": project.community,
            "project": project,
            "form": form,
            "heading": _("Change the measure") if instance else _("Add a measure"),
        },
    )


@team_required
def measure_data(request, project, measure):
    """A measure's data: add a point, upload a CSV, mark astronomical points, remove one."""
    measure = get_object_or_404(Measure, project=project, pk=measure)
    point_form = PointForm(request.POST if "add_point" in request.POST else None)
    csv_form = CsvForm(
        request.POST if "upload" in request.POST else None,
        request.FILES if "upload" in request.POST else None,
    )
    problems = []
    if request.method == "POST":
        done = _data_post(request, measure, point_form, csv_form, problems)
        if done:
            messages.success(request, done)
            return redirect(
                "improvement:project_measure_data",
                slug=project.community.slug,
                pk=project.pk,
                measure=measure.pk,
            )
    # The chart is drawn once per revision of the project's charts (read first); the points
    # are listed a page at a time, the latest first, however many there are.
    (drawn,) = revisions.read(revisions.key(Project.CHARTS_REVISION, project.pk))

    def draw() -> str:
        rows = measure.points.values_list("when", "value")
        drawing = charts.draw(
            measure, [spc.Point(when, value) for when, value in rows], list(project.cycles.all())
        )
        return render_to_string(
            "improvement/includes/chart.html", {"drawing": drawing, "chart_id": "chart"}
        )

    page = Paginator(measure.points.order_by("-when", "-pk"), DATA_ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "improvement/measure_data.html",
        {
            "community": project.community,
            "project": project,
            "measure": measure,
            "points": page.object_list,
            "page": page,
            "point_form": point_form,
            "csv_form": csv_form,
            "problems": problems,
            "chart": computed(
                "improvement-measure-chart",
                version_of(measure.pk, drawn, project.community.slug, get_language()),
                draw,
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


def _data_post(request, measure, point_form, csv_form, problems) -> str | None:
    try:
        if "add_point" in request.POST and point_form.is_valid():
            data = point_form.cleaned_data
            services.add_point(
                measure=measure, when=data["when"], value=data["value"], note=data["note"]
            )
            return _("Point added.")
        if "upload" in request.POST and csv_form.is_valid():
            upload = csv_form.cleaned_data["file"]
            # Never read more than the limit into memory: a bigger file is refused unread.
            content = upload.read(services.CSV_MAX_BYTES + 1)
            count, found = services.import_points(measure=measure, content=content)
            problems += found
            if not found:
                return _("%(n)d points imported.") % {"n": count}
        target = request.POST.get("remove") or request.POST.get("astronomical")
        if target and target.isascii() and target.isdigit():
            point = get_object_or_404(DataPoint, measure=measure, pk=int(target))
            point.measure = measure
            if "remove" in request.POST:
                services.remove_point(point=point)
                return _("Point removed.")
            marked = services.mark_astronomical(point=point)
            return _("Marked.") if marked else _("Mark taken off.")
    except ValidationError as error:
        point_form.add_error("when", error)
    return None


@team_required
def project_result(request, project):
    if project.result_published_at and request.method == "POST":
        messages.info(request, _("The result is published, so it stays as it was sent."))
        return redirect(project)
    form = ResultForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_result(project=project, form=form)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(
                "improvement:project_result", slug=project.community.slug, pk=project.pk
            )
        if "publish" in request.POST:
            try:
                result = services.publish_result(project=project, by=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect(
                    "improvement:project_result", slug=project.community.slug, pk=project.pk
                )
            if not result.published:
                messages.info(
                    request, _("The result was already published. Nobody was told twice.")
                )
            else:
                messages.success(
                    request,
                    _(
                        "Result published. Everyone whose ideas led here is being told, each "
                        "once; the update's page shows how far it has got."
                    ),
                )
            return redirect(project)
        messages.success(request, _("Result saved. Publish it when it is ready."))
        return redirect("improvement:project_result", slug=project.community.slug, pk=project.pk)
    return render(
        request,
        "improvement/project_result.html",
        {
            "community": project.community,
            "project": project,
            "form": form,
            "contributor_count": loop.contributor_count(
                project.community, project.ideas.values_list("pk", flat=True)
            ),
            "published": project.updates.filter(status="published").exists(),
            "may_publish": may_coordinate(request.user, project.community),
        },
    )
