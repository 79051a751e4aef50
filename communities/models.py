import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.status import StatusModel

INVITATION_LIFETIME = timedelta(days=14)


class MembershipError(ValidationError):
    """A membership change that is refused, with a message to show the person."""


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a time zone we know. Use a name like Europe/London."),
            params={"value": value},
        ) from None


class Perspective(models.TextChoices):
    """The experience a person brings to a community. A person may bring several."""

    PATIENT = "patient", _("Patient or service user")
    CARER = "carer", _("Carer or family member")
    CLINICIAN = "clinician", _("Clinician")
    STAFF = "staff", _("Other health or care staff")
    RESEARCHER = "researcher", _("Researcher")
    ANALYST = "analyst", _("Analyst")
    IMPROVEMENT = "improvement", _("Improvement team")
    VOLUNTARY = "voluntary", _("Voluntary or community organisation")
    OTHER = "other", _("Other")


DEFAULT_INVOLVEMENT_OPTIONS = [
    (_("One-off surveys"), _("Answer a short survey now and then.")),
    (_("Giving feedback online"), _("Comment on ideas and give feedback when it suits you.")),
    (_("Coming to sessions"), _("Come to workshops, drop-ins and focus groups.")),
    (_("Helping with research"), _("Help design or take part in research.")),
    (
        _("A paid role on a delivery group"),
        _("Join the group that steers the work, paid for your time."),
    ),
]


class PartnerOrganisation(models.Model):
    """A voluntary group, charity, NHS body or other organisation that works with communities."""

    class Kind(models.TextChoices):
        VOLUNTARY = "voluntary", _("Voluntary or community group")
        CHARITY = "charity", _("Charity")
        NHS = "nhs", _("NHS organisation")
        LOCAL_AUTHORITY = "local_authority", _("Local authority")
        UNIVERSITY = "university", _("University")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CommunityQuerySet(models.QuerySet):
    def listed(self):
        """Listed communities that are running: the ones people can join."""
        return self.filter(listed=True, status=Community.Status.ACTIVE)

    def on_home_page(self):
        """Listed communities, the running ones first, then those winding down or archived:
        their record stays findable. Each says whether it is `past`."""
        past = Case(When(status=Community.Status.ACTIVE, then=Value(False)), default=Value(True))
        return self.filter(listed=True).annotate(past=past).order_by("past", "name")


class Community(models.Model):
    """People who come together around a common purpose."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WINDING_DOWN = "winding_down", _("Winding down")
        ARCHIVED = "archived", _("Archived")

    class JoinPolicy(models.TextChoices):
        OPEN = "open", _("Open: anyone can join")
        APPROVAL = "approval", _("Approval: a coordinator approves each request")
        INVITATION = "invitation", _("Invitation only")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("web address"),
        max_length=60,
        unique=True,
        help_text=_(
            "The short name in the community's web address, as in /c/our-community/. "
            "Changing it breaks links and QR codes already printed."
        ),
        error_messages={
            "unique": _("Another community already uses this web address."),
            "invalid": _("Use only lower-case letters, numbers and hyphens."),
        },
    )
    purpose = models.TextField(
        _("purpose"), help_text=_("Our common ambition, in a sentence or two.")
    )
    serves = models.TextField(
        _("who it serves"),
        blank=True,
        help_text=_("The people and the area this community is for."),
    )
    description = models.TextField(_("description"), blank=True)
    ground_rules = models.TextField(
        _("ground rules"),
        blank=True,
        help_text=_(
            "How we keep this an open, honest and safe space. Members agree to these when "
            "they join, and again whenever they change."
        ),
    )
    ground_rules_version = models.PositiveIntegerField(default=1, editable=False)
    join_policy = models.CharField(
        _("how people join"), max_length=20, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    listed = models.BooleanField(
        _("listed"), default=True, help_text=_("Show this community on the home page.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    legacy_note = models.TextField(
        _("legacy note"),
        blank=True,
        help_text=_("For a community winding down: what it achieved and where to go next."),
    )
    update_promise_days = models.PositiveSmallIntegerField(
        _("days to answer input"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "We promise to tell people what happened to their input within this many days. "
            "Input waiting longer is shown as overdue."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=settings.TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Session times are shown in this time zone."),
    )
    partners = models.ManyToManyField(
        PartnerOrganisation, blank=True, related_name="communities", verbose_name=_("partners")
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

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED

    def coordinator_people(self):
        """The people who coordinate this community now: whom alerts about it go to."""
        from members.models import User

        return User.objects.filter(
            memberships__in=Membership.objects.coordinators().filter(community=self)
        )

    def ensure_default_involvement_options(self) -> None:
        """Give a new community the standard ways to take part, from light to deep."""
        if self.involvement_options.exists():
            return
        InvolvementOption.objects.bulk_create(
            InvolvementOption(community=self, name=str(name), description=str(text), position=i)
            for i, (name, text) in enumerate(DEFAULT_INVOLVEMENT_OPTIONS)
        )


class InvolvementOption(models.Model):
    """One way to take part in a community, chosen by members when they join."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="involvement_options"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=250, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(
        _("offered"), default=True, help_text=_("Untick to stop offering this way to take part.")
    )

    class Meta:
        verbose_name = _("involvement option")
        verbose_name_plural = _("involvement options")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"], name="communities_involvement_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Membership.Status.ACTIVE)

    def coordinators(self):
        return self.active().filter(role=Membership.Role.COORDINATOR)

    def with_details(self):
        """Everything the members list shows, in a fixed number of queries."""
        return self.select_related("user").prefetch_related("perspective_set", "involvement")


class Membership(StatusModel):
    """A person's place in a community: their role, where they are in joining, the
    perspectives they bring and how they want to take part."""

    # The revision key of a community's memberships and invitations, community-members:<pk>
    # (followed in communities.apps): the dashboard's counts of people are kept under it.
    MEMBERS_REVISION = "community-members"

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        PARTNER = "partner", _("Partner")
        COORDINATOR = "coordinator", _("Coordinator")

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        REQUESTED = "requested", _("Asked to join")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Request declined")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed")

    # Which status may follow which (`set_status`). Joining again after leaving or being
    # declined is allowed; after removal only an invitation brings someone back.
    NEXT_STATUSES = {
        Status.INVITED: {Status.ACTIVE, Status.REMOVED},
        Status.REQUESTED: {Status.ACTIVE, Status.DECLINED, Status.LEFT},
        Status.ACTIVE: {Status.LEFT, Status.REMOVED},
        Status.DECLINED: {Status.REQUESTED, Status.ACTIVE, Status.INVITED},
        Status.LEFT: {Status.REQUESTED, Status.ACTIVE, Status.INVITED},
        Status.REMOVED: {Status.INVITED, Status.ACTIVE},
    }
    STATUS_REFUSAL = _(
        "That cannot be done now: this membership's status is “%(now)s”. "
        "Reload the page to see the latest."
    )

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    # A partner's organisation: they run the sessions it hosts, as well as those they
    # facilitate.
    organisation = models.ForeignKey(
        PartnerOrganisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("partner organisation"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    involvement = models.ManyToManyField(
        InvolvementOption, blank=True, related_name="memberships", verbose_name=_("involvement")
    )
    request_message = models.TextField(_("message with the request"), blank=True)
    decision_message = models.TextField(_("message with the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    rules_version_agreed = models.PositiveIntegerField(
        _("ground rules version agreed"), null=True, blank=True
    )
    rules_agreed_at = models.DateTimeField(_("ground rules agreed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["community", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user"], name="communities_one_membership_per_person"
            ),
        ]
        indexes = [models.Index(fields=["community", "status", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.community} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_coordinator(self) -> bool:
        return self.is_active and self.role == self.Role.COORDINATOR

    @property
    def needs_to_agree_rules(self) -> bool:
        return (
            self.is_active
            and bool(self.community.ground_rules)
            and (self.rules_version_agreed or 0) < self.community.ground_rules_version
        )

    @property
    def perspectives(self) -> list[str]:
        return [p.perspective for p in self.perspective_set.all()]

    def perspective_labels(self) -> list[str]:
        # Only the labels shown are translated (not every choice's, for every row).
        return [str(Perspective(p).label) for p in sorted(self.perspectives)]

    def status_moved(self, before, *, by, at) -> list[str]:
        moved = []
        if self.status == self.Status.ACTIVE:
            self.joined_at = at
            moved.append("joined_at")
        # A request approved or declined by someone else is a decision; the person joining
        # through an invitation while their request waits decides nothing.
        answered = self.status in (self.Status.ACTIVE, self.Status.DECLINED)
        if before == self.Status.REQUESTED and answered and by and by.pk != self.user_id:
            self.decided_by, self.decided_at = by, at
            moved += ["decided_by", "decided_at"]
        return moved


class MembershipPerspective(models.Model):
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="perspective_set"
    )
    perspective = models.CharField(max_length=20, choices=Perspective.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "perspective"], name="communities_perspective_once"
            )
        ]

    def __str__(self) -> str:
        return self.get_perspective_display()


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An emailed, single-use, expiring invitation to join a community in a given role.

    It works for someone with no account yet: they sign up from the link.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(
        _("role"), max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    message = models.TextField(_("personal message"), blank=True, max_length=2000)
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(default=timezone.now)
    times_sent = models.PositiveSmallIntegerField(default=1)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "email"],
                condition=Q(accepted_at=None, revoked_at=None),
                name="communities_one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.community}"

    def save(self, *args, **kwargs):
        if self.expires_at is None:
            self.expires_at = timezone.now() + INVITATION_LIFETIME
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "communities:invitation", kwargs={"slug": self.community.slug, "token": self.token}
        )

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
