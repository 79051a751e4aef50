import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, PartnerOrganisation
from members import revisions
from members.aggregates import count
from members.choices import ChoiceLabels
from members.status import StatusModel


class Venue(models.Model):
    """Where a community meets: ideally somewhere people already go."""

    class Kind(models.TextChoices):
        COMMUNITY_CENTRE = "community_centre", _("Community centre")
        FAITH = "faith", _("Faith venue")
        LIBRARY = "library", _("Library")
        HEALTH = "health", _("Health or care setting")
        UNIVERSITY = "university", _("University")
        WORKPLACE = "workplace", _("Workplace")
        ONLINE = "online", _("Online")
        OTHER = "other", _("Other")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="venues")
    name = models.CharField(_("name"), max_length=150)
    address = models.TextField(_("address"), blank=True)
    kind = models.CharField(_("kind of place"), max_length=20, choices=Kind.choices)
    step_free = models.BooleanField(_("step-free access"), default=False)
    accessible_toilet = models.BooleanField(_("accessible toilet"), default=False)
    hearing_loop = models.BooleanField(_("hearing loop"), default=False)
    quiet_space = models.BooleanField(_("quiet space"), default=False)
    parking = models.BooleanField(_("parking"), default=False)
    public_transport = models.BooleanField(_("near public transport"), default=False)
    interpreters = models.BooleanField(_("interpreters on request"), default=False)
    map_link = models.URLField(
        _("map link"), blank=True, help_text=_("A link to the place on a map website.")
    )
    notes = models.TextField(_("getting there"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    ACCESS_FACTS = [
        "step_free",
        "accessible_toilet",
        "hearing_loop",
        "quiet_space",
        "parking",
        "public_transport",
        "interpreters",
    ]

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def access_facts(self) -> list[str]:
        """The accessibility facts that are true here, as labels."""
        return [
            str(self._meta.get_field(f).verbose_name) for f in self.ACCESS_FACTS if getattr(self, f)
        ]


class SessionQuerySet(models.QuerySet):
    def visible(self):
        return self.exclude(status=Session.Status.DRAFT)

    def upcoming(self, now=None):
        return self.filter(ends_at__gte=now or timezone.now()).order_by("starts_at")

    def past(self, now=None):
        return self.filter(ends_at__lt=now or timezone.now()).order_by("-starts_at")

    def with_counts(self):
        """Each session's numbers registered and waiting, as counts of its own rows: a page
        of 25 sessions counts 25 sessions' registrations, not every session's before the
        sort and the page are taken (as a join with GROUP BY would)."""
        mine = Registration.objects.filter(session=models.OuterRef("pk"))
        return self.annotate(
            registered_count=count(mine.filter(status=Registration.Status.REGISTERED)),
            waiting_count=count(mine.filter(status=Registration.Status.WAITING)),
        )


class Session(StatusModel):
    """A time when people meet: a workshop, a drop-in, a focus group, outreach, online."""

    class Kind(models.TextChoices):
        WORKSHOP = "workshop", _("Workshop")
        DROP_IN = "drop_in", _("Drop-in")
        FOCUS_GROUP = "focus_group", _("Focus group")
        OUTREACH = "outreach", _("Outreach")
        DELIVERY_GROUP = "delivery_group", _("Delivery group meeting")
        ONLINE = "online", _("Online")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")

    NEXT_STATUSES = {
        Status.DRAFT: {Status.PUBLISHED, Status.CANCELLED},
        Status.PUBLISHED: {Status.CANCELLED, Status.COMPLETED, Status.DRAFT},
        Status.CANCELLED: set(),
        Status.COMPLETED: set(),
    }
    STATUS_REFUSAL = _("A session that is “%(now)s” cannot become “%(new)s”.")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind of session"), max_length=20, choices=Kind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    online_link = models.URLField(
        _("online link"), blank=True, help_text=_("Shown only to people who have registered.")
    )
    host = models.ForeignKey(
        PartnerOrganisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hosted_sessions",
        verbose_name=_("hosted by"),
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="facilitated_sessions"
    )
    capacity = models.PositiveIntegerField(
        _("places"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    registration_required = models.BooleanField(
        _("people register first"),
        default=True,
        help_text=_("Untick for an open drop-in where anyone can turn up."),
    )
    offers_payment = models.BooleanField(_("payment for your time"), default=False)
    offers_refreshments = models.BooleanField(_("refreshments"), default=False)
    offers_travel = models.BooleanField(_("travel expenses"), default=False)
    offers_childcare = models.BooleanField(_("childcare"), default=False)
    languages = models.CharField(_("languages"), max_length=200, blank=True, default="English")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    # After the session: people who came without registering, counted, not named.
    walk_in_count = models.PositiveIntegerField(_("walk-ins"), default=0)
    walk_in_perspectives = models.JSONField(_("walk-ins' perspectives"), default=list, blank=True)
    attendance_notes = models.TextField(_("notes about who came"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="engagement_session_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["community", "status", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("engagement:session", kwargs={"slug": self.community.slug, "pk": self.pk})

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.community.time_zone)

    @property
    def is_open_for_registration(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.registration_required
            and self.ends_at > timezone.now()
        )

    def offers(self) -> list[str]:
        fields = ["offers_payment", "offers_refreshments", "offers_travel", "offers_childcare"]
        return [str(self._meta.get_field(f).verbose_name) for f in fields if getattr(self, f)]


class AccessRequirement(models.TextChoices):
    WHEELCHAIR = "wheelchair", _("Wheelchair access")
    BSL = "bsl", _("A British Sign Language interpreter")
    HEARING_LOOP = "hearing_loop", _("A hearing loop")
    LARGE_PRINT = "large_print", _("Large print")
    DIETARY = "dietary", _("Dietary needs")
    CARER = "carer", _("I am bringing a carer")
    OTHER = "other", _("Something else")


class Registration(models.Model):
    """A person's place at a session, or on its waiting list."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    access_requirements = models.JSONField(_("access requirements"), default=list, blank=True)
    access_details = models.TextField(
        _("anything else we should know"), blank=True, max_length=1000
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the person joined the waiting list, or took a place: the list moves up in order.
    queued_at = models.DateTimeField(default=timezone.now)
    attended = models.BooleanField(_("came"), null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["queued_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="engagement_register_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.session} ({self.get_status_display()})"

    def access_labels(self) -> list[str]:
        labels = dict(AccessRequirement.choices)
        return [str(labels[a]) for a in self.access_requirements if a in labels]


class KeyPoint(models.Model):
    """Something heard at a session, in a sentence or two: the raw material of ideas."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="key_points")
    text = models.TextField(_("what we heard"), max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("key point")
        verbose_name_plural = _("key points")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


# --- Surveys and feedback forms ----------------------------------------------------------------


class SurveyQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def with_results_revision(self):
        """Each survey with the revision of its results (`results_revision`), read in the
        same query: it changes with every write to its questions, choices, responses and
        answers (see `members.revisions`)."""
        return self.annotate(results_revision=revisions.annotation(Survey.RESULTS_REVISION))


class Survey(ChoiceLabels, models.Model):
    """A survey or feedback form: many ways to give input, from a one-off answer to feedback
    after a session."""

    # The revision key of a survey's results: survey:<pk>.
    RESULTS_REVISION = "survey"

    class Audience(models.TextChoices):
        MEMBERS = "members", _("Members of the community")
        ANYONE = "anyone", _("Anyone with the link")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="surveys")
    session = models.ForeignKey(
        Session,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        help_text=_("For feedback after a session."),
    )
    title = models.CharField(_("title"), max_length=150)
    introduction = models.TextField(_("introduction"), blank=True)
    opens_at = models.DateTimeField(_("opens"), default=timezone.now)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    audience = models.CharField(
        _("who can answer"), max_length=10, choices=Audience.choices, default=Audience.MEMBERS
    )
    allow_anonymous = models.BooleanField(
        _("people may answer without giving their name"), default=False
    )
    published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-opens_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("engagement:survey", kwargs={"slug": self.community.slug, "pk": self.pk})

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.published
            and self.opens_at <= now
            and (self.closes_at is None or now < self.closes_at)
        )


RATINGS_LABELS = {
    1: _("1 (poor)"),
    2: "2",
    3: "3",
    4: "4",
    5: _("5 (very good)"),
}


class Question(models.Model):
    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        SINGLE = "single", _("Choose one")
        MULTIPLE = "multiple", _("Choose any")
        RATING = "rating", _("Rating from 1 to 5")
        YES_NO = "yes_no", _("Yes or no")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("extra explanation"), max_length=300, blank=True)
    kind = models.CharField(_("kind of answer"), max_length=12, choices=Kind.choices)
    required = models.BooleanField(_("an answer is needed"), default=False)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("choice"), max_length=200)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class Response(models.Model):
    """One person's answers to a survey: a member's (one each, changeable until it closes),
    an anonymous or public one, or one entered from paper on someone's behalf."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Answers collected on paper, typed in by a coordinator or partner for someone else.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    on_behalf_of = models.CharField(_("whose answers these are"), max_length=200, blank=True)
    contact_by = models.CharField(
        _("how they agreed to be contacted"),
        max_length=10,
        choices=[
            ("", _("Not to be contacted")),
            ("email", _("Email")),
            ("phone", _("Phone")),
            ("post", _("Post")),
        ],
        blank=True,
    )
    contact_details = models.CharField(_("contact details"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "user"],
                condition=Q(user__isnull=False),
                name="engagement_one_response_per_member",
            )
        ]
        indexes = [
            # A survey's first answer (when a survey with no closing date starts to wait for
            # an update) read without going through all of its answers.
            models.Index(fields=["survey", "created_at"], name="engagement_first_response"),
        ]

    def __str__(self) -> str:
        return f"Response to {self.survey}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField(blank=True)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    choices = models.ManyToManyField(Choice, blank=True, related_name="answers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="engagement_answer_once")
        ]
        # The results page reads a question's written answers a page at a time, newest first.
        indexes = [models.Index(fields=["question", "-id"], name="engagement_answer_newest")]

    def __str__(self) -> str:
        return f"Answer to {self.question}"


class Participation(models.Model):
    """That a member has answered a survey, kept apart from their answers: it keeps them to
    one answer even when they answer without their name, and stops the reminder."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survey_participations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "user"], name="engagement_participate_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} answered {self.survey}"
