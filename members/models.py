import re
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.choices import ChoiceLabels


def normalise_email(email: str) -> str:
    """Email addresses are compared and stored in lower case, without surrounding spaces."""
    return (email or "").strip().lower()


def public_name(name: str, erased_at) -> str:
    """`User.public_name` from the two fields it is made of, for pages that read names as
    values rather than loading each person."""
    if erased_at is not None:
        return str(_("a former member"))
    return name or str(_("a member"))


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email=normalise_email(username))


class NotificationGroup(models.TextChoices):
    """What a notification is about, which decides how (and whether) a person gets it."""

    REMINDERS = "reminders", _("Reminders")
    UPDATES = "updates", _("Updates about my input")
    NEWS = "news", _("Community news")
    ALERTS = "alerts", _("Coordinator alerts")


class Delivery(models.TextChoices):
    IMMEDIATELY = "immediately", _("Straight away")
    DAILY = "daily", _("In a daily digest")
    WEEKLY = "weekly", _("In a weekly digest")
    NEVER = "never", _("Never")


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. They log in with their email address; there is no username.

    An erased person keeps their row, emptied of everything that says who they were, so that
    what they gave to a community still points somewhere and shows as "a former member".
    """

    class Language(models.TextChoices):
        ENGLISH = "en-gb", _("English")

    class ContactChannel(models.TextChoices):
        EMAIL = "email", _("Email")
        POST = "post", _("A letter by post")
        PHONE = "phone", _("A phone call")

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("preferred name"), max_length=150, blank=True)
    pronouns = models.CharField(
        _("pronouns"),
        max_length=40,
        blank=True,
        help_text=_("For example she/her, he/him or they/them. Leave blank if you prefer."),
    )
    access_needs = models.TextField(
        _("access needs"),
        blank=True,
        max_length=2000,
        help_text=_(
            "Anything that helps you take part, such as step-free access, a hearing loop, "
            "large print, an interpreter or breaks. Only the coordinators and session hosts "
            "of your communities see this."
        ),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.ENGLISH
    )
    # How each group of notifications reaches the person (see NotificationGroup).
    reminders_delivery = models.CharField(
        _("reminders about sessions I have registered for"),
        max_length=12,
        choices=Delivery.choices,
        default=Delivery.IMMEDIATELY,
    )
    updates_delivery = models.CharField(
        _("updates about what was done with my input"),
        max_length=12,
        choices=Delivery.choices,
        default=Delivery.IMMEDIATELY,
    )
    news_delivery = models.CharField(
        _("news from my communities"),
        max_length=12,
        choices=Delivery.choices,
        default=Delivery.WEEKLY,
    )
    alerts_delivery = models.CharField(
        _("alerts for coordinators"),
        max_length=12,
        choices=Delivery.choices,
        default=Delivery.IMMEDIATELY,
    )
    contact_channel = models.CharField(
        _("how to reach me"),
        max_length=10,
        choices=ContactChannel.choices,
        default=ContactChannel.EMAIL,
        help_text=_("People entered from paper may ask for a letter or a call instead of email."),
    )
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    is_staff = models.BooleanField(
        _("site staff"),
        default=False,
        help_text=_("Can log in to the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    erased_at = models.DateTimeField(
        _("erased"),
        null=True,
        blank=True,
        help_text=_("When this person deleted their account. Their details were removed then."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="members_user_email_ci_unique"),
        ]
        # Lists of people are in this order: a community's first page of members is then
        # read from the index, not sorted from all of them.
        indexes = [models.Index(fields=["name", "email"], name="members_user_by_name")]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self) -> str:
        """How the person is shown to others: their preferred name, or the start of their
        email address; once erased, only "a former member"."""
        if self.erased_at is not None:
            return str(_("a former member"))
        return self.name or self.email.split("@")[0]

    @property
    def public_name(self) -> str:
        """How the person is shown on public pages: their preferred name if they gave one,
        never a part of their email address."""
        return public_name(self.name, self.erased_at)

    def clean(self):
        super().clean()
        self.email = normalise_email(self.email)

    def get_full_name(self) -> str:
        return self.display_name

    def delivery_for(self, group: str) -> str:
        return getattr(self, f"{group}_delivery")

    @property
    def has_usable_email(self) -> bool:
        return (
            self.is_active
            and self.erased_at is None
            and bool(self.email)
            and not self.email.endswith(".invalid")
        )

    def get_short_name(self) -> str:
        return self.display_name


class Heartbeat(models.Model):
    """When a periodic task last ran: proof that beat schedules and a worker executes.

    Stored in the database rather than the cache so that the web process, the worker and
    beat all see the same value whatever cache each is using.
    """

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


# --- Equality monitoring --------------------------------------------------------------------

PREFER_NOT_TO_SAY = "prefer_not_to_say"
_PREFER_NOT_TO_SAY_CHOICE = (PREFER_NOT_TO_SAY, _("Prefer not to say"))

AGE_BAND_CHOICES = [
    ("16-24", _("16 to 24")),
    ("25-34", _("25 to 34")),
    ("35-44", _("35 to 44")),
    ("45-54", _("45 to 54")),
    ("55-64", _("55 to 64")),
    ("65-74", _("65 to 74")),
    ("75+", _("75 or over")),
    _PREFER_NOT_TO_SAY_CHOICE,
]

# The 19 ethnic groups of the 2021 census in England and Wales, in its 5 high-level groups.
# Grouped choices render as <optgroup>s, so each option reads with its group.
ETHNIC_GROUP_CHOICES = [
    (
        _("Asian or Asian British"),
        [
            ("asian_bangladeshi", _("Bangladeshi")),
            ("asian_chinese", _("Chinese")),
            ("asian_indian", _("Indian")),
            ("asian_pakistani", _("Pakistani")),
            ("asian_other", _("Any other Asian background")),
        ],
    ),
    (
        _("Black, Black British, Caribbean or African"),
        [
            ("black_african", _("African")),
            ("black_caribbean", _("Caribbean")),
            ("black_other", _("Any other Black, Black British or Caribbean background")),
        ],
    ),
    (
        _("Mixed or multiple ethnic groups"),
        [
            ("mixed_white_asian", _("White and Asian")),
            ("mixed_white_black_african", _("White and Black African")),
            ("mixed_white_black_caribbean", _("White and Black Caribbean")),
            ("mixed_other", _("Any other Mixed or multiple ethnic background")),
        ],
    ),
    (
        _("White"),
        [
            ("white_british", _("English, Welsh, Scottish, Northern Irish or British")),
            ("white_irish", _("Irish")),
            ("white_gypsy_traveller", _("Gypsy or Irish Traveller")),
            ("white_roma", _("Roma")),
            ("white_other", _("Any other White background")),
        ],
    ),
    (
        _("Other ethnic group"),
        [
            ("other_arab", _("Arab")),
            ("other_any", _("Any other ethnic group")),
        ],
    ),
    _PREFER_NOT_TO_SAY_CHOICE,
]

SEX_CHOICES = [("female", _("Female")), ("male", _("Male")), _PREFER_NOT_TO_SAY_CHOICE]
YES_NO_CHOICES = [("yes", _("Yes")), ("no", _("No")), _PREFER_NOT_TO_SAY_CHOICE]

# A UK postcode's first half (outward code): A9, A99, AA9, AA99, A9A or AA9A.
OUTWARD_CODE = re.compile(r"^(?:[A-Z]{1,2}[0-9]{1,2}|[A-Z]{1,2}[0-9][A-Z])$")
validate_outward_code = RegexValidator(
    OUTWARD_CODE,
    _("Enter only the first part of a UK postcode, such as S10 or BS5."),
)

# Fewer people than this in a group and the group's number is hidden, so that nobody can be
# picked out from the totals.
SMALL_NUMBER_THRESHOLD = 5


class EqualityMonitoringQuerySet(models.QuerySet):
    MONITORED_FIELDS = (
        "age_band",
        "ethnic_group",
        "sex",
        "gender_same_as_birth",
        "disability",
        "postcode_district",
    )

    def counts_by(self, field: str, user_ids: Iterable[int] | None = None) -> dict[str, int | None]:
        """How many people gave each answer to one question, among `user_ids` if given.

        Every answer the question offers is listed, in the form's order (postcode districts,
        which are free text, only as given). A count under SMALL_NUMBER_THRESHOLD, zero
        included, is None: suppressed, never shown.
        """
        if field not in self.MONITORED_FIELDS:
            raise ValueError(f"{field!r} is not an equality monitoring question.")
        rows = self if user_ids is None else self.filter(user_id__in=user_ids)
        found = dict(rows.order_by().values_list(field).annotate(n=models.Count("pk")))
        choices = self.model._meta.get_field(field).flatchoices
        answers = [value for value, _label in choices] or sorted(found)
        return {
            answer: n if (n := found.get(answer, 0)) >= SMALL_NUMBER_THRESHOLD else None
            for answer in answers
        }


class EqualityMonitoring(models.Model):
    """A person's answers to the equality monitoring questions, given with their consent.

    Kept apart from the profile: special-category data, deleted whole when consent is
    withdrawn, and only ever read as suppressed totals (`counts_by`) by anyone but the person.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="equality_monitoring", verbose_name=_("person")
    )
    consented_at = models.DateTimeField(_("consent given"))
    age_band = models.CharField(
        _("What is your age?"), max_length=20, choices=AGE_BAND_CHOICES, default=PREFER_NOT_TO_SAY
    )
    ethnic_group = models.CharField(
        _("What is your ethnic group?"),
        max_length=40,
        choices=ETHNIC_GROUP_CHOICES,
        default=PREFER_NOT_TO_SAY,
    )
    sex = models.CharField(
        _("What is your sex?"), max_length=20, choices=SEX_CHOICES, default=PREFER_NOT_TO_SAY
    )
    gender_same_as_birth = models.CharField(
        _("Is the gender you identify with the same as the sex you were registered at birth?"),
        max_length=20,
        choices=YES_NO_CHOICES,
        default=PREFER_NOT_TO_SAY,
    )
    disability = models.CharField(
        _(
            "Do you have a disability, or a physical or mental health condition that has "
            "lasted or is expected to last 12 months or more?"
        ),
        max_length=20,
        choices=YES_NO_CHOICES,
        default=PREFER_NOT_TO_SAY,
    )
    postcode_district = models.CharField(
        _("The first part of your postcode"),
        max_length=4,
        blank=True,
        validators=[validate_outward_code],
        help_text=_(
            "For example S10 or BS5. Leave this blank if you prefer not to say. "
            "We never ask for your full postcode."
        ),
    )

    objects = EqualityMonitoringQuerySet.as_manager()

    class Meta:
        verbose_name = _("equality monitoring answers")
        verbose_name_plural = _("equality monitoring answers")

    def __str__(self) -> str:
        # Never the answers themselves: this may end up in a log or an error report.
        return f"Equality monitoring answers #{self.pk}"

    def ethnic_group_label(self) -> str:
        """The answer with its group, as "Asian or Asian British: Indian"."""
        for group, options in ETHNIC_GROUP_CHOICES:
            if isinstance(options, list) and self.ethnic_group in dict(options):
                return f"{group}: {dict(options)[self.ethnic_group]}"
        return self.get_ethnic_group_display()


# --- The notification outbox -----------------------------------------------------------------


NO_USABLE_ADDRESS = "No usable email address."


class NotificationQuerySet(models.QuerySet):
    def due(self, now=None):
        """Email rows ready to send straight away: pending, not held for a digest, and past any
        back-off after a failed try."""
        now = now or timezone.now()
        return self.filter(
            state=Notification.State.PENDING,
            channel=Notification.Channel.EMAIL,
            delivery=Delivery.IMMEDIATELY,
            next_attempt_at__lte=now,
        )

    def unreachable(self):
        """Rows skipped because the person had no usable email address: someone should find
        another way to tell them."""
        return self.filter(state=Notification.State.SKIPPED, last_error=NO_USABLE_ADDRESS)

    def call_and_letter(self):
        """Rows for people who asked for a letter or a call: coordinators contact them."""
        return self.filter(_call_and_letter())

    def counts(self) -> dict[str, int]:
        """How many of these rows failed, and how many are letters and calls to make: one
        query."""
        return self.aggregate(
            failed=Count("pk", filter=Q(state=Notification.State.FAILED)),
            to_contact=Count("pk", filter=_call_and_letter()),
        )


def _call_and_letter() -> Q:
    return Q(
        state=Notification.State.PENDING,
        channel__in=[Notification.Channel.POST, Notification.Channel.PHONE],
    )


class Notification(ChoiceLabels, models.Model):
    """One row of the outbox: tell this person (or address) about this object, once.

    Written in the same transaction as the change that causes it; delivered by Celery.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        POST = "post", _("Letter")
        PHONE = "phone", _("Phone call")

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # The address at the time of writing; the only address for someone with no account yet.
    email = models.EmailField(blank=True)
    kind = models.CharField(max_length=50)
    group = models.CharField(
        max_length=20,
        choices=NotificationGroup.choices,
        blank=True,
        help_text=_("Empty for messages a person cannot turn off, such as account emails."),
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    delivery = models.CharField(
        max_length=12, choices=Delivery.choices, default=Delivery.IMMEDIATELY
    )
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    about_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, null=True, blank=True
    )
    about_id = models.CharField(max_length=64, blank=True)
    # Tells apart deliberate repeats about the same object, such as an invitation sent again.
    key = models.CharField(max_length=40, blank=True, default="")
    context = models.JSONField(default=dict, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim = models.CharField(max_length=40, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "about_type", "about_id", "key"],
                condition=models.Q(recipient__isnull=False),
                name="members_notification_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["email", "kind", "about_type", "about_id", "key"],
                condition=models.Q(recipient__isnull=True),
                name="members_notification_once_per_address",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "channel", "delivery", "next_attempt_at"]),
            models.Index(fields=["community", "state"]),
            # How far telling people about one thing has got (members.fanout.progress).
            models.Index(fields=["about_type", "about_id", "kind", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.email or self.recipient_id} ({self.state})"

    @property
    def message_id(self) -> str:
        """The same for every try, so that a receiving system can fold a repeat; the site's
        host name keeps one site's ids apart from another's."""
        from urllib.parse import urlsplit

        from django.conf import settings

        return f"<notification-{self.pk}@{urlsplit(settings.SITE_URL).hostname or 'convene'}>"


class FanOut(models.Model):
    """A promise to tell a whole audience about one thing, recorded in the request and carried
    out by the worker in batches (members.fanout).

    The request that publishes an update (or cancels a session) writes this one row in its
    own transaction. When the worker starts, it keeps the audience as it stands then (the
    people as `FanOutPerson` rows, the contacts without an account in `contacts`) and records
    `total`, all in one transaction; it then writes the outbox rows a batch at a time,
    moving `cursor` past the last person written in the same transaction as their rows. A
    worker killed mid-way leaves the row unfinished; the next run carries on from `cursor`,
    and the outbox's unique key keeps anyone from being written twice.
    """

    class State(models.TextChoices):
        WRITING = "writing", _("Telling people")
        DONE = "done", _("Everyone written to")

    kind = models.CharField(max_length=50)
    # The registered audience that says who hears (see members.fanout.register_audience).
    audience = models.CharField(max_length=50)
    about_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    about_id = models.CharField(max_length=64)
    key = models.CharField(max_length=40, blank=True, default="")
    community = models.ForeignKey(
        "communities.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fan_outs",
    )
    context = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    state = models.CharField(max_length=10, choices=State.choices, default=State.WRITING)
    # People and contacts in the audience, counted when the worker keeps it (None before).
    total = models.PositiveIntegerField(null=True, blank=True)
    # People and contacts already written to the outbox (or found told before).
    done_count = models.PositiveIntegerField(default=0)
    # The last person (by pk) written, and how many contacts without an account were.
    cursor = models.BigIntegerField(default=0)
    contacts_done = models.PositiveIntegerField(default=0)
    # The contacts without an account, as [name, channel, details], kept when the worker
    # starts: they are walked by position, so the list must not change between runs.
    contacts = models.JSONField(default=list, blank=True)
    # The worker that holds it and when it last moved; a worker silent for longer than the
    # lease is taken to be dead and the fan-out is handed to another.
    claim = models.CharField(max_length=40, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fan-out")
        verbose_name_plural = _("fan-outs")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "about_type", "about_id", "key"],
                name="members_fanout_once_per_thing",
            )
        ]
        indexes = [models.Index(fields=["state", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.kind} about {self.about_type_id}:{self.about_id} ({self.state})"

    @property
    def is_done(self) -> bool:
        return self.state == self.State.DONE


class FanOutPerson(models.Model):
    """One person in a fan-out's audience, kept when the worker starts it, so that each batch
    reads the next few people by index instead of working the audience out again. A batch
    deletes its people's rows as it writes their outbox rows, and the fan-out deletes what is
    left when it finishes: the table holds only people still to be written to.

    Neither column has a database constraint: checking one on each row of the keeping INSERT
    costs about a tenth of it on PostgreSQL (0.6 s for 100,000 people). A fan-out deleted
    through Django takes its rows with it; a person deleted meanwhile is simply not found
    when their batch is written."""

    pk = models.CompositePrimaryKey("fan_out", "user")
    fan_out = models.ForeignKey(
        FanOut,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    user = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("person to tell")
        verbose_name_plural = _("people to tell")

    def __str__(self) -> str:
        return f"{self.user_id} in fan-out {self.fan_out_id}"


# --- Revisions of data behind computed results -------------------------------------------------


class Revision(models.Model):
    """How many times the rows behind one computed result have been written: a number raised
    in the writer's own transaction (`members.revisions.bump`), so it changes exactly when
    the change becomes visible. A key with no row has never been raised and reads as 0."""

    key = models.CharField(max_length=100, primary_key=True)
    number = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")

    def __str__(self) -> str:
        return f"{self.key} #{self.number}"
