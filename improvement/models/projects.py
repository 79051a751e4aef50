"""Improvement projects: an aim, a team, linked ideas, a driver diagram, Plan-Do-Study-Act
cycles, and measures whose data points are drawn as run and XmR charts."""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from improvement.models.ideas import Idea
from members.status import StatusModel


class ProjectError(ValidationError):
    """A change to a project that is refused, with a message saying why."""


# Values a measure can hold: room for any count, rate or cost, and nothing so large or so
# small that drawing the chart loses its arithmetic.
VALUE_LIMIT = 1e12


def validate_value(value: float) -> None:
    if value is None:
        return
    if not math.isfinite(value) or abs(value) > VALUE_LIMIT:
        raise ValidationError(_("Use a number between minus and plus a million million."))
    if value != 0 and abs(value) < 1e-9:
        raise ValidationError(_("That number is too small to draw: round it to zero."))


class ProjectQuerySet(models.QuerySet):
    def current(self):
        return self.filter(status__in=[Project.Status.TESTING, Project.Status.SUSTAINING])


class Project(StatusModel):
    # The revision key of a project's charts: project-charts:<pk>.
    CHARTS_REVISION = "project-charts"

    class Status(models.TextChoices):
        PLANNING = "planning", _("Planning")
        TESTING = "testing", _("Testing changes")
        SUSTAINING = "sustaining", _("Sustaining")
        COMPLETED = "completed", _("Completed")
        STOPPED = "stopped", _("Stopped")

    NEXT_STATUSES = {
        Status.PLANNING: {Status.TESTING, Status.STOPPED},
        Status.TESTING: {Status.SUSTAINING, Status.COMPLETED, Status.STOPPED},
        Status.SUSTAINING: {Status.COMPLETED, Status.STOPPED, Status.TESTING},
        Status.COMPLETED: set(),
        Status.STOPPED: {Status.PLANNING},
    }

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="projects")
    title = models.CharField(_("title"), max_length=150)
    aim_what = models.TextField(
        _("aim: what will improve"),
        max_length=1000,
        help_text=_("For example: people with IBD get their clinic letter before the appointment."),
    )
    aim_how_much = models.CharField(
        _("aim: by how much"), max_length=200, help_text=_("For example: from 40% to 90%.")
    )
    aim_by_when = models.DateField(_("aim: by when"))
    ideas = models.ManyToManyField(
        Idea, blank=True, related_name="projects", verbose_name=_("ideas it puts into practice")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNING
    )
    starts_on = models.DateField(_("started"), null=True, blank=True)
    ends_on = models.DateField(_("ended"), null=True, blank=True)
    driver_diagram = models.TextField(
        _("driver diagram"),
        blank=True,
        max_length=6000,
        help_text=_(
            "One line each: primary drivers with no indent, their secondary drivers indented "
            "by two spaces, and change ideas by four."
        ),
    )
    result = models.TextField(_("what happened"), blank=True, max_length=4000)
    result_published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("improvement project")
        verbose_name_plural = _("improvement projects")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("improvement:project", args=[self.community.slug, self.pk])

    @property
    def aim(self) -> str:
        return _("%(what)s (%(how_much)s, by %(when)s)") % {
            "what": self.aim_what,
            "how_much": self.aim_how_much,
            "when": date_format(self.aim_by_when, "j F Y"),
        }

    def transition_error(self, status: str) -> str | None:
        labels = dict(self.Status.choices)
        if status == self.status:
            return None
        if self.status == self.Status.COMPLETED:
            return str(_("This project is completed, so its status stays as it is."))
        if status not in self.NEXT_STATUSES[self.status]:
            options = ", ".join(f"“{labels[s]}”" for s in sorted(self.NEXT_STATUSES[self.status]))
            return str(
                _(
                    "A project that is “%(now)s” cannot become “%(new)s”. From here it can "
                    "become: %(options)s."
                )
                % {
                    "now": labels[self.status],
                    "new": labels.get(status, status),
                    "options": options,
                }
            )
        return None

    def status_moved(self, before, *, by, at) -> list[str]:
        today = timezone.localdate(at)
        if self.status == self.Status.TESTING and self.starts_on is None:
            self.starts_on = today
        if self.status == self.Status.PLANNING:
            self.starts_on = None  # planned again: it starts when testing does
        if self.status in (self.Status.COMPLETED, self.Status.STOPPED):
            self.ends_on = today
        else:
            self.ends_on = None  # planned again, or back to testing: not ended
        return ["starts_on", "ends_on"]


class TeamMember(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        MEMBER = "member", _("Team member")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_teams"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["role", "user__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="improvement_team_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Cycle(models.Model):
    """A Plan-Do-Study-Act cycle: a small test of one change."""

    class Act(models.TextChoices):
        ADOPT = "adopt", _("Adopt")
        ADAPT = "adapt", _("Adapt")
        ABANDON = "abandon", _("Abandon")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cycles")
    change = models.CharField(_("plan: the change we will test"), max_length=200)
    prediction = models.TextField(_("plan: what we predict will happen"), max_length=2000)
    measuring = models.TextField(_("plan: what we will measure"), max_length=1000)
    do = models.TextField(_("do: what happened"), blank=True, max_length=3000)
    study = models.TextField(
        _("study: what the data showed, against the prediction"), blank=True, max_length=3000
    )
    act = models.CharField(
        _("act: what we decided"), max_length=10, choices=Act.choices, blank=True
    )
    act_notes = models.TextField(_("act: why, and what next"), blank=True, max_length=2000)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("PDSA cycle")
        verbose_name_plural = _("PDSA cycles")
        ordering = ["starts_on", "pk"]

    def __str__(self) -> str:
        return self.change

    def clean(self):
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A cycle cannot end before it starts.")})


class Measure(models.Model):
    class Kind(models.TextChoices):
        OUTCOME = "outcome", _("Outcome")
        PROCESS = "process", _("Process")
        BALANCING = "balancing", _("Balancing")

    class Chart(models.TextChoices):
        RUN = "run", _("Run chart")
        XMR = "xmr", _("XmR chart (statistical process control)")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="measures")
    name = models.CharField(_("name"), max_length=150)
    definition = models.TextField(
        _("definition"),
        max_length=2000,
        help_text=_("Exactly what is counted, and how: the numerator and denominator if any."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    higher_is_better = models.BooleanField(
        _("higher is better"), default=True, help_text=_("Untick if lower values are better.")
    )
    target = models.FloatField(_("target"), null=True, blank=True, validators=[validate_value])
    chart = models.CharField(_("chart"), max_length=4, choices=Chart.choices, default=Chart.RUN)
    baseline_until = models.DateField(
        _("baseline until"),
        null=True,
        blank=True,
        help_text=_("The run chart's median comes from the points up to this date."),
    )
    rebase_from = models.DateField(
        _("new limits from"),
        null=True,
        blank=True,
        help_text=_("The XmR chart's limits are worked out again from this date."),
    )
    screen_moving_ranges = models.BooleanField(
        _("leave out unusually large jumps when working out the limits"),
        default=True,
        help_text=_(
            "As NHS England's reference does: a jump of 3.267 times the average jump or more "
            "between two points is left out, so one wild point does not widen the limits for "
            "all the others. The chart says which were left out."
        ),
    )
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class DataPoint(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="points")
    when = models.DateField(_("date"))
    value = models.FloatField(_("value"), validators=[validate_value])
    note = models.CharField(_("note"), max_length=300, blank=True)
    # Judged by a person looking at the chart, never computed.
    astronomical = models.BooleanField(_("astronomical point"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("data point")
        verbose_name_plural = _("data points")
        ordering = ["when"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "when"], name="improvement_point_once")
        ]

    def __str__(self) -> str:
        return f"{self.when}: {self.value}"
