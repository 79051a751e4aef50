"""Updates ("you said, we did"): telling everyone who gave input what was done with it."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from engagement.models import Participation, Registration, Response, Session, Survey
from improvement.models.ideas import Contributors, Idea, OnBehalfContact
from members.choices import ChoiceLabels


class UpdateError(ValidationError):
    """An update that cannot be published, with a message saying why."""


class UpdateQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Update.Status.PUBLISHED)

    def about_ideas(self, ideas):
        """Published updates about these ideas or about ideas merged into them."""
        ids = Idea.objects.filter(pk__in=ideas).with_merged().values("pk")
        return self.published().filter(ideas__in=ids).distinct()


class Update(ChoiceLabels, models.Model):
    """What we heard, what we did (or could not do, and why) and what happens next, about
    ideas, sessions or surveys. Publishing it tells everyone whose input it answers, once."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="updates")
    title = models.CharField(_("headline"), max_length=150)
    what_we_heard = models.TextField(_("what we heard"), max_length=3000)
    what_we_did = models.TextField(
        _("what we did, are doing, or could not do, and why"), max_length=4000
    )
    what_next = models.TextField(_("what happens next"), max_length=2000, blank=True)
    ideas = models.ManyToManyField(
        Idea, blank=True, related_name="updates", verbose_name=_("ideas it answers")
    )
    sessions = models.ManyToManyField(
        Session, blank=True, related_name="updates", verbose_name=_("sessions it answers")
    )
    surveys = models.ManyToManyField(
        Survey, blank=True, related_name="updates", verbose_name=_("surveys it answers")
    )
    # The project whose result this update tells, if it does.
    project = models.ForeignKey(
        "improvement.Project",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="updates",
        verbose_name=_("project"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How many people publishing it set out to tell: by email, by their chosen channel, or on
    # the letters-and-calls list.
    told_count = models.PositiveIntegerField(default=0, editable=False)

    objects = UpdateQuerySet.as_manager()

    class Meta:
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        ordering = ["-published_at", "-created_at", "-pk"]
        indexes = [models.Index(fields=["community", "status", "-published_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="improvement_published_update_has_a_date",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("improvement:update", args=[self.community.slug, self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def audience(self) -> Contributors:
        """Everyone whose input this update answers: the contributors of its ideas (merged
        ideas included), everyone recorded as coming to its sessions, and everyone who
        answered its surveys (named or not: answering is what they did, not what they said),
        with people entered from paper who agreed to be contacted. Each person once."""
        from members.models import User

        # The links themselves, not the ideas, sessions and surveys joined to them.
        links = {
            name: getattr(Update, name).through.objects.filter(update=self.pk)
            for name in ("ideas", "sessions", "surveys")
        }
        ideas = Idea.objects.filter(pk__in=links["ideas"].values("idea"))
        # One UNION of indexed look-ups: an OR of subqueries would make the database test
        # every member against each of them.
        who = ideas.contributor_ids().union(
            Registration.objects.filter(
                attended=True, session__in=links["sessions"].values("session")
            )
            .order_by()
            .values("user"),
            Participation.objects.filter(survey__in=links["surveys"].values("survey"))
            .order_by()
            .values("user"),
        )
        members = User.objects.filter(pk__in=who, is_active=True, erased_at__isnull=True).order_by(
            "pk"
        )
        ideas = ideas.contributors()
        on_behalf = {contact.key: contact for contact in ideas.on_behalf}
        paper = Response.objects.filter(survey__in=links["surveys"].values("survey")).exclude(
            contact_by=""
        )
        for name, contact_by, details in paper.values_list(
            "on_behalf_of", "contact_by", "contact_details"
        ):
            contact = OnBehalfContact(name, contact_by, details.strip())
            on_behalf.setdefault(contact.key, contact)
        return Contributors(members=members, on_behalf=list(on_behalf.values()))
