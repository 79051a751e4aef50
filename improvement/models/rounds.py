"""Prioritisation rounds: chosen ideas scored against agreed criteria by community members and
professionals, so each can see the other's view before a decision."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Perspective
from improvement.models.ideas import Idea
from members.status import StatusModel

DEFAULT_CRITERIA = [
    (_("Impact"), _("How much difference it would make to people's health and care.")),
    (
        _("Reach and fairness"),
        _("How many people it would help, and whether it helps those heard least."),
    ),
    (
        _("Feasibility with the resources we have"),
        _("Whether we can do it with the people, time and money we have now."),
    ),
]

# Perspectives whose scores show as the community's; the rest show as professionals'.
COMMUNITY_PERSPECTIVES = {
    Perspective.PATIENT,
    Perspective.CARER,
    Perspective.VOLUNTARY,
    Perspective.OTHER,
}


class RoundError(ValidationError):
    """A change to a prioritisation round that is refused."""


class PrioritisationRound(StatusModel):
    """Scoring chosen ideas against agreed criteria, so the community and professionals can
    see each other's view before a decision."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being set up")
        OPEN = "open", _("Open for scoring")
        CLOSED = "closed", _("Closed")

    NEXT_STATUSES = {
        Status.DRAFT: {Status.OPEN},
        Status.OPEN: {Status.CLOSED},
        Status.CLOSED: set(),
    }
    STATUS_REFUSAL = _("A round that is “%(now)s” cannot become “%(new)s”.")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="prioritisation_rounds"
    )
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("what scorers should know"), blank=True, max_length=3000)
    ideas = models.ManyToManyField(Idea, related_name="rounds", verbose_name=_("ideas"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("prioritisation round")
        verbose_name_plural = _("prioritisation rounds")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("improvement:round_score", args=[self.community.slug, self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def transition_error(self, to: str) -> str | None:
        if to != self.status and self.status == self.Status.CLOSED:
            return str(_("This round is closed, so it cannot change."))
        if to == self.Status.CLOSED and self.status == self.Status.DRAFT:
            return str(_("Open the round before closing it."))
        return super().transition_error(to)

    def status_moved(self, before, *, by, at) -> list[str]:
        if self.status == self.Status.OPEN:
            self.opened_at = at
            return ["opened_at"]
        self.closed_at = at
        return ["closed_at"]


class Criterion(models.Model):
    round = models.ForeignKey(
        PrioritisationRound, on_delete=models.CASCADE, related_name="criteria"
    )
    name = models.CharField(_("criterion"), max_length=100)
    description = models.CharField(_("what it means"), max_length=250, blank=True)
    weight = models.PositiveSmallIntegerField(
        _("weight"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("How much this criterion counts, from 1 to 10."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=10), name="improvement_weight_1_to_10"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Scorer(models.Model):
    """Someone invited to score a round, and the view their scores stand for."""

    class Group(models.TextChoices):
        COMMUNITY = "community", _("Community members")
        PROFESSIONAL = "professional", _("Professionals")

    round = models.ForeignKey(PrioritisationRound, on_delete=models.CASCADE, related_name="scorers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scoring"
    )
    group = models.CharField(_("scores count as"), max_length=12, choices=Group.choices)
    invited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("scorer")
        verbose_name_plural = _("scorers")
        ordering = ["group", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="improvement_scorer_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_group_display()})"

    @classmethod
    def group_for(cls, perspectives) -> str:
        """The group a person's scores count in, from the perspectives they bring: anyone
        with lived experience is heard as the community."""
        if not perspectives or set(perspectives) & COMMUNITY_PERSPECTIVES:
            return cls.Group.COMMUNITY
        return cls.Group.PROFESSIONAL


class Score(models.Model):
    scorer = models.ForeignKey(Scorer, on_delete=models.CASCADE, related_name="scores")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="scores")
    value = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(
                fields=["scorer", "idea", "criterion"], name="improvement_score_once"
            ),
            models.CheckConstraint(
                condition=Q(value__gte=1, value__lte=5), name="improvement_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value} for {self.idea} on {self.criterion}"
