from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CommunityQuerySet(models.QuerySet):
    def listed(self):
        """Communities shown on the home page: listed and active."""
        return self.filter(listed=True, status=Community.Status.ACTIVE)


class Community(models.Model):
    """People who come together around a common purpose."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WINDING_DOWN = "winding_down", _("Winding down")
        ARCHIVED = "archived", _("Archived")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("web address"),
        max_length=60,
        unique=True,
        help_text=_("The short name in the community's address, /c/<this>/."),
    )
    purpose = models.TextField(
        _("purpose"), help_text=_("Our common ambition, in a sentence or two.")
    )
    description = models.TextField(_("description"), blank=True)
    listed = models.BooleanField(
        _("listed"), default=True, help_text=_("Show this community on the home page.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communities:detail", kwargs={"slug": self.slug})


class Membership(models.Model):
    """A person's place in a community, with the role they hold there."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        PARTNER = "partner", _("Partner")
        COORDINATOR = "coordinator", _("Coordinator")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="communities_one_membership_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.community} ({self.get_role_display()})"
