"""Improvement projects: starting and finishing them (and what that means for their ideas),
data points from a form or a CSV file, and telling everyone whose ideas led to the result."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.access import get_membership, may_coordinate, refuse_if_archived
from improvement.access import may_take_part
from improvement.models import (
    DataPoint,
    Idea,
    IdeaEvent,
    Measure,
    Project,
    ProjectError,
    TeamMember,
    Update,
)
from improvement.models.projects import validate_value
from improvement.services.updates import PublishResult, publish_update
from members import revisions
from members.models import User

__all__ = [
    "CSV_MAX_BYTES",
    "LINKABLE",
    "CsvProblem",
    "add_point",
    "change_project_status",
    "create_project",
    "import_points",
    "mark_astronomical",
    "publish_result",
    "remove_point",
    "save_cycle",
    "save_measure",
    "save_project",
    "save_result",
    "set_team_member",
]

CSV_MAX_BYTES = 512 * 1024
# A project puts into practice ideas the community has chosen: prioritised ones (and ones
# already in progress or done through another project).
LINKABLE = {Idea.Status.PRIORITISED, Idea.Status.IN_PROGRESS, Idea.Status.DONE}
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
CSV_MAX_ROWS = 5000


@transaction.atomic
def create_project(*, community, by: User, ideas=(), **fields) -> Project:
    """A new project, in planning, with the person who started it as its lead."""
    refuse_if_archived(community)
    if not may_take_part(by, community):
        raise ProjectError(_("Join the community and agree its ground rules to start a project."))
    project = Project.objects.create(community=community, created_by=by, **fields)
    project.ideas.set([i for i in ideas if i.community_id == community.pk and i.status in LINKABLE])
    TeamMember.objects.create(project=project, user=by, role=TeamMember.Role.LEAD)
    return project


@transaction.atomic
def set_team_member(*, project: Project, user: User, role: str | None) -> None:
    """Add someone to the team (an active member of the community), change their role, or
    (role None) take them off. A project keeps at least one lead."""
    refuse_if_archived(project.community)
    if role is None:
        leads = project.team.filter(role=TeamMember.Role.LEAD)
        if leads.count() == 1 and leads.filter(user=user).exists():
            raise ProjectError(_("A project needs a lead. Make someone else lead first."))
        project.team.filter(user=user).delete()
        return
    membership = get_membership(user, project.community)
    if membership is None or not membership.is_active:
        raise ProjectError(_("Only active members of the community can join a project team."))
    leads = project.team.filter(role=TeamMember.Role.LEAD)
    if role != TeamMember.Role.LEAD and leads.count() == 1 and leads.filter(user=user).exists():
        raise ProjectError(_("A project needs a lead. Make someone else lead first."))
    TeamMember.objects.update_or_create(project=project, user=user, defaults={"role": role})


@transaction.atomic
def save_project(*, form, by: User) -> Project:
    """Save a project's aim, ideas and drivers. Ideas linked while changes are being tested
    are put in progress, as if they had been linked from the start."""
    refuse_if_archived(form.instance.community)
    project = form.save()
    if project.status in (Project.Status.TESTING, Project.Status.SUSTAINING):
        note = _("Project “%(title)s”") % {"title": project.title}
        for idea in project.ideas.select_for_update():
            _move_idea(idea, Idea.Status.IN_PROGRESS, by=by, note=note)
    return project


def _move_idea(idea: Idea, status: str, *, by: User, note: str) -> None:
    """Move an idea one step along its own status table: prioritised to in progress, in
    progress to done. Ideas not yet prioritised, merged, done or decided against stay as they
    are: a project never decides for the community what to take forward."""
    if idea.status not in (Idea.Status.PRIORITISED, Idea.Status.IN_PROGRESS):
        return
    if idea.transition_error(status):
        return
    if idea.set_status(status, by=by):
        IdeaEvent.objects.create(
            idea=idea, kind=IdeaEvent.Kind.STATUS, actor=by, status=status, note=note
        )


@transaction.atomic
def change_project_status(*, project: Project, status: str, by: User) -> Project:
    """Move a project along its status table. Starting to test changes puts its ideas in
    progress; completing it (which needs a result written) marks them done."""
    refuse_if_archived(project.community)
    project = Project.objects.select_for_update().select_related("community").get(pk=project.pk)
    if status == Project.Status.COMPLETED and not project.result.strip():
        raise ProjectError(_("Write what happened before completing the project."))
    if not project.set_status(status, by=by):
        return project
    note = _("Project “%(title)s”") % {"title": project.title}
    if status == Project.Status.TESTING:
        for idea in project.ideas.select_for_update():
            _move_idea(idea, Idea.Status.IN_PROGRESS, by=by, note=note)
    elif status == Project.Status.COMPLETED:
        for idea in project.ideas.select_for_update():
            _move_idea(idea, Idea.Status.IN_PROGRESS, by=by, note=note)
            _move_idea(idea, Idea.Status.DONE, by=by, note=note)
    return project


@transaction.atomic
def add_point(*, measure: Measure, when: date, value: float, note: str = "") -> DataPoint:
    refuse_if_archived(measure.project.community)
    if DataPoint.objects.filter(measure=measure, when=when).exists():
        raise ProjectError(
            _("There is already a value for %(when)s. Change that one instead.")
            % {"when": when.isoformat()}
        )
    try:
        with transaction.atomic():
            return DataPoint.objects.create(
                measure=measure, when=when, value=value, note=note.strip()
            )
    except IntegrityError:  # the same point sent twice at once
        raise ProjectError(
            _("There is already a value for %(when)s. Change that one instead.")
            % {"when": when.isoformat()}
        ) from None


@transaction.atomic
def save_cycle(*, project: Project, form):
    """Log a PDSA cycle of a project, or change one (the form carries the cycle)."""
    refuse_if_archived(project.community)
    return form.save()


@transaction.atomic
def save_measure(*, project: Project, form) -> Measure:
    """Add a measure to a project, or change one (the form carries the measure)."""
    refuse_if_archived(project.community)
    return form.save()


@transaction.atomic
def remove_point(*, point: DataPoint) -> None:
    refuse_if_archived(point.measure.project.community)
    point.delete()


@transaction.atomic
def mark_astronomical(*, point: DataPoint) -> bool:
    """Mark a point as astronomical (left out of the chart's limits), or take the mark off.
    Returns whether it is marked now."""
    refuse_if_archived(point.measure.project.community)
    point.astronomical = not point.astronomical
    point.save(update_fields=["astronomical", "updated_at"])
    return point.astronomical


@transaction.atomic
def save_result(*, project: Project, form) -> Project:
    """Save a project's result, before it is published."""
    refuse_if_archived(project.community)
    return form.save()


@dataclass
class CsvProblem:
    """A problem with an uploaded file: on a line of it, or (`line` None) with the file as a
    whole, such as its size or its encoding, which no line is at fault for."""

    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return str(self.message)
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


def _read_rows(content: bytes) -> tuple[list[tuple[int, dict]], list[CsvProblem]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [CsvProblem(None, _("The file is not plain text (save it as CSV, UTF-8)."))]
    if "\x00" in text:
        return [], [CsvProblem(None, _("The file is not plain text (save it as CSV, UTF-8)."))]
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _rows_of(reader)
    except csv.Error:
        return [], [
            CsvProblem(
                reader.line_num or 1,
                _("This line cannot be read as CSV: check its quotes and commas."),
            )
        ]


def _rows_of(reader) -> tuple[list[tuple[int, dict]], list[CsvProblem]]:
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    if "date" not in columns or "value" not in columns:
        return [], [
            CsvProblem(
                1,
                _(
                    "The first line must name the columns: date, value, and note if "
                    "you have notes. It says: %(found)s."
                )
                % {"found": ", ".join(reader.fieldnames or []) or _("nothing")},
            )
        ]
    unknown = [c for c in columns if c not in ("date", "value", "note")]
    if unknown:
        return [], [
            CsvProblem(
                1,
                _("Unknown columns: %(cols)s. Use date, value and note.")
                % {"cols": ", ".join(unknown)},
            )
        ]
    reader.fieldnames = columns
    rows, problems = [], []
    for row in reader:
        if row.get(None):
            problems.append(
                CsvProblem(
                    reader.line_num, _("This row has more cells than the first line has columns.")
                )
            )
        rows.append((reader.line_num, row))
    return rows, problems


def _parse_row(number: int, row: dict, seen: dict, existing: set) -> tuple[tuple | None, list]:
    problems = []
    raw_date, raw_value = (row.get("date") or "").strip(), (row.get("value") or "").strip()
    when = value = None
    try:
        when = date.fromisoformat(raw_date)
    except ValueError:
        problems.append(
            CsvProblem(number, _("“%(v)s” is not a date like 2026-03-31.") % {"v": raw_date})
        )
    try:
        if not NUMBER.fullmatch(raw_value):
            raise ValueError  # 3,5 or 1,234 or 1_000? Too easy to read wrongly: say so
        value = float(raw_value)
        validate_value(value)
    except ValidationError as error:
        value = None
        problems.append(CsvProblem(number, " ".join(error.messages)))
    except ValueError:
        problems.append(
            CsvProblem(
                number,
                _("“%(v)s” is not a number like 42 or 3.5 (a full stop for decimals, no commas).")
                % {"v": raw_value},
            )
        )
    if when is not None:
        if when in seen:
            twice = _("%(d)s is in the file twice (also line %(other)d).")
            problems.append(CsvProblem(number, twice % {"d": when, "other": seen[when]}))
        elif when in existing:
            problems.append(CsvProblem(number, _("%(d)s already has a value.") % {"d": when}))
        seen.setdefault(when, number)
    note = (row.get("note") or "").strip()
    if len(note) > 300:
        problems.append(CsvProblem(number, _("The note is longer than 300 characters.")))
    return ((when, value, note) if not problems else None), problems


@transaction.atomic
def import_points(*, measure: Measure, content: bytes) -> tuple[int, list[CsvProblem]]:
    """Import data points from a CSV file with the columns date, value and (optionally) note.
    Every row is checked first; if any is wrong, nothing is imported and every problem comes
    back with its line number. Returns (points imported, problems)."""
    refuse_if_archived(measure.project.community)
    if len(content) > CSV_MAX_BYTES:
        return 0, [CsvProblem(None, _("The file is too large: keep it under 500 KB."))]
    rows, problems = _read_rows(content)
    if problems:
        return 0, problems
    if not rows:
        return 0, [CsvProblem(2, _("The file has no rows of data under its first line."))]
    if len(rows) > CSV_MAX_ROWS:
        return 0, [CsvProblem(1, _("Too many rows: up to %(n)d at a time.") % {"n": CSV_MAX_ROWS})]
    existing = set(measure.points.values_list("when", flat=True))
    seen: dict = {}
    good = []
    for number, row in rows:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        parsed, row_problems = _parse_row(number, row, seen, existing)
        problems += row_problems
        if parsed:
            good.append(parsed)
    if problems:
        return 0, problems
    DataPoint.objects.bulk_create(
        DataPoint(measure=measure, when=when, value=value, note=note)
        for when, value, note in sorted(good)
    )
    revisions.bump(revisions.key(Project.CHARTS_REVISION, measure.project_id))  # no signals
    return len(good), []


@transaction.atomic
def publish_result(*, project: Project, by: User) -> PublishResult:
    """Tell everyone whose ideas led to the project what came of it: a "you said, we did"
    update about its ideas, published once by a coordinator. Publishing again tells nobody
    twice."""
    refuse_if_archived(project.community)
    if not may_coordinate(by, project.community):
        raise ProjectError(_("A coordinator publishes the result, as they publish every update."))
    project = Project.objects.select_for_update().select_related("community").get(pk=project.pk)
    if not project.result.strip():
        raise ProjectError(_("Write what happened before publishing the result."))
    ideas = list(project.ideas.all())
    if not ideas:
        raise ProjectError(
            _("Link the ideas this project put into practice, so we know whom to tell.")
        )
    update = project.updates.filter(status=Update.Status.PUBLISHED).first()
    if update is not None:
        return PublishResult(published=False)
    update = Update.objects.create(
        community=project.community,
        project=project,
        title=(_("What came of “%(title)s”") % {"title": project.title})[:150],
        what_we_heard="\n".join(f"• {idea.title}" for idea in ideas),
        what_we_did=project.result,
        what_next=_("Our aim was: %(aim)s.") % {"aim": project.aim},
        created_by=by,
    )
    update.ideas.set(ideas)
    result = publish_update(update=update, by=by)
    project.result_published_at = timezone.now()
    project.save(update_fields=["result_published_at"])
    return result
