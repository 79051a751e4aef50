"""Paying people properly: each community's rates, paid roles, each person's choice about
payment, and claims for time and expenses with their approval.

Payments are honoraria: a person may take them, take less, have them given to a charity, or
decline. Convene keeps no bank details; finance pays from the exported list.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Membership
from engagement.models.sessions import Session
from members.status import StatusModel

MONEY = {"max_digits": 9, "decimal_places": 2}
# Amounts above these are a slip of the keyboard, not a payment for public involvement.
MAX_RATE = Decimal("5000")
MAX_EXPENSE = Decimal("2000")
RECEIPT_TYPES = ["pdf", "jpg", "jpeg", "png"]
RECEIPT_MAX_BYTES = 5 * 1024 * 1024


class PaymentError(ValidationError):
    """A claim or rate change that is refused, with a message saying why."""


def tax_year_of(day: date) -> tuple[date, date]:
    """The UK tax year a day falls in: 6 April to 5 April."""
    start_year = day.year if day >= date(day.year, 4, 6) else day.year - 1
    return date(start_year, 4, 6), date(start_year + 1, 4, 5)


class Activity(models.TextChoices):
    SESSION = "session", _("Attending a session")
    MEETING = "meeting", _("A delivery group meeting")
    PREPARATION = "preparation", _("Preparation or reading")
    TRAINING = "training", _("Training")
    COFACILITATING = "cofacilitating", _("Co-facilitating")
    ROLE = "role", _("A paid role's hours")


class Basis(models.TextChoices):
    HOUR = "hour", _("Per hour")
    HALF_DAY = "half_day", _("Per half day")
    DAY = "day", _("Per day")
    ACTIVITY = "activity", _("Per activity")


class RateQuerySet(models.QuerySet):
    def in_force(self, *, community, activity: str, on: date):
        """The rate for an activity on a day: the latest one valid from that day or before."""
        return (
            self.filter(community=community, activity=activity, valid_from__lte=on)
            .order_by("-valid_from", "-pk")
            .first()
        )


class Rate(models.Model):
    """What a community pays for an activity, from a date. A new rate applies from its date;
    claims already made keep the rate they were made at."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="rates")
    activity = models.CharField(_("activity"), max_length=20, choices=Activity.choices)
    basis = models.CharField(_("paid"), max_length=10, choices=Basis.choices)
    amount = models.DecimalField(
        _("amount (£)"),
        **MONEY,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_RATE)],
    )
    valid_from = models.DateField(_("from"))
    created_at = models.DateTimeField(default=timezone.now)

    objects = RateQuerySet.as_manager()

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ["activity", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "activity", "valid_from"], name="engagement_rate_once_a_day"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="engagement_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_activity_display()}: £{self.amount} {self.get_basis_display().lower()}"


class PaymentSettings(models.Model):
    """A community's budget for paying people, and the yearly total per person above which
    coordinators are alerted (benefit and payroll rules depend on such limits; the community
    sets the number)."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="payment_settings"
    )
    budget = models.DecimalField(
        _("budget for this tax year (£)"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    threshold = models.DecimalField(
        _("alert when a person's total for a tax year passes (£)"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Benefit and payroll rules turn on limits like this. Set the figure your finance "
            "team gives you; Convene does not know it."
        ),
    )

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self) -> str:
        return f"Payment settings for {self.community}"


class PaidRole(models.Model):
    """A paid role a member holds, such as microsystems coach, with its agreed hours."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="paid_roles")
    title = models.CharField(_("role"), max_length=100)
    hours_per_month = models.DecimalField(
        _("agreed hours a month"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("200"))],
    )
    hourly_rate = models.DecimalField(
        _("agreed rate per hour (£)"),
        **MONEY,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_RATE)],
    )
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("paid role")
        verbose_name_plural = _("paid roles")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="engagement_role_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A role cannot end before it starts.")})


class PaymentChoice(models.Model):
    """What a person wants done with payments for their time in a community."""

    class Choice(models.TextChoices):
        ACCEPT = "accept", _("Accept payment")
        LOWER = "lower", _("Accept a lower amount")
        CHARITY = "charity", _("Give it to a charity")
        DECLINE = "decline", _("Decline payment")

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="payment_choice"
    )
    choice = models.CharField(
        _("what to do with payment for my time"),
        max_length=10,
        choices=Choice.choices,
        default=Choice.ACCEPT,
    )
    lower_percent = models.PositiveSmallIntegerField(
        _("the share I will take (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    charity = models.CharField(_("which charity"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment choice")
        verbose_name_plural = _("payment choices")

    def __str__(self) -> str:
        return self.get_choice_display()

    def clean(self):
        if self.choice == self.Choice.LOWER and not self.lower_percent:
            raise ValidationError({"lower_percent": _("Say what share you will take.")})
        if self.choice == self.Choice.CHARITY and not self.charity.strip():
            raise ValidationError({"charity": _("Say which charity.")})

    def payable(self, fee: Decimal) -> Decimal:
        """The part of a fee paid to the person (or, for a charity, to the charity)."""
        if self.choice == self.Choice.DECLINE:
            return Decimal("0.00")
        if self.choice == self.Choice.LOWER and self.lower_percent:
            return (fee * self.lower_percent / 100).quantize(Decimal("0.01"))
        return fee


class ClaimQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=Claim.Status.SUBMITTED)

    def counted(self):
        """Claims whose money is, or will be, paid."""
        return self.filter(status__in=[Claim.Status.APPROVED, Claim.Status.PAID])

    def in_tax_year(self, day: date):
        start, end = tax_year_of(day)
        return self.filter(date__gte=start, date__lte=end)


class Claim(StatusModel):
    """A claim for time (a session attended, a meeting, hours worked) and expenses."""

    class Kind(models.TextChoices):
        SESSION = "session", _("A session I came to")
        MEETING = "meeting", _("A meeting")
        HOURS = "hours", _("Hours worked")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for a coordinator")
        QUERIED = "queried", _("A coordinator asked a question")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        PAID = "paid", _("Paid")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    NEXT_STATUSES = {
        Status.SUBMITTED: {Status.QUERIED, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
        Status.QUERIED: {Status.SUBMITTED, Status.REJECTED, Status.WITHDRAWN},
        Status.APPROVED: {Status.PAID},
        Status.REJECTED: set(),
        Status.PAID: set(),
        Status.WITHDRAWN: set(),
    }
    STATUS_REFUSAL = _(
        "A claim that is “%(now)s” cannot become “%(new)s”. Reload the page to see the latest."
    )
    # The moves a coordinator makes on a claim: who made the last one is kept.
    DECISIONS = {Status.APPROVED, Status.QUERIED, Status.REJECTED}

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="claims")
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("what for"), max_length=10, choices=Kind.choices)
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    activity = models.CharField(_("activity"), max_length=20, choices=Activity.choices)
    paid_role = models.ForeignKey(
        PaidRole, on_delete=models.SET_NULL, null=True, blank=True, related_name="claims"
    )
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(Decimal("24"))],
    )
    description = models.CharField(_("what you did"), max_length=300, blank=True)
    # The rate as it was when the claim was made: a later rate does not change it.
    rate = models.ForeignKey(
        Rate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rate_amount = models.DecimalField(**MONEY, null=True, blank=True)
    rate_basis = models.CharField(max_length=10, choices=Basis.choices, blank=True)
    fee = models.DecimalField(_("for your time (£)"), **MONEY, default=Decimal("0.00"))
    choice = models.CharField(max_length=10, choices=PaymentChoice.Choice.choices)
    payable = models.DecimalField(_("to be paid for time (£)"), **MONEY, default=Decimal("0.00"))
    charity = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    # A claim for a session the person is not recorded as coming to: allowed, never silent.
    not_recorded_as_attending = models.BooleanField(default=False)
    question = models.TextField(_("coordinator's question"), blank=True, max_length=1000)
    answer = models.TextField(_("your answer"), blank=True, max_length=2000)
    decision_reason = models.TextField(_("why not"), blank=True, max_length=1000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["community", "status", "date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["claimant", "session"],
                condition=Q(session__isnull=False) & ~Q(status__in=["rejected", "withdrawn"]),
                name="engagement_one_claim_per_session",
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gt=0, hours__lte=24),
                name="engagement_claim_hours_in_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_activity_display()} on {self.date} by {self.claimant}"

    def get_absolute_url(self) -> str:
        return reverse("engagement:claim", args=[self.community.slug, self.pk])

    @property
    def expenses_total(self) -> Decimal:
        return sum((e.amount for e in self.expenses.all()), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.payable + self.expenses_total

    def status_moved(self, before, *, by, at) -> list[str]:
        if self.status in self.DECISIONS:
            self.decided_by, self.decided_at = by, at
            return ["decided_by", "decided_at"]
        return []


def receipt_path(expense, filename: str) -> str:
    """A name of Convene's own: the uploader's file name is never used on disk."""
    extension = filename.rsplit(".", 1)[-1].lower()
    stamp = f"{timezone.now():%Y%m%d%H%M%S%f}"
    return f"receipts/{expense.claim.community_id}/{expense.claim_id}/{stamp}.{extension}"


def validate_receipt_size(file) -> None:
    if file.size > RECEIPT_MAX_BYTES:
        raise ValidationError(_("The receipt is too large: keep it under 5 MB."))


class Expense(models.Model):
    class Kind(models.TextChoices):
        TRAVEL = "travel", _("Travel")
        CARER = "carer", _("Cover for someone I care for")
        CHILDCARE = "childcare", _("Childcare")
        OTHER = "other", _("Other")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="expenses")
    kind = models.CharField(_("expense"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("what it was"), max_length=200, blank=True)
    amount = models.DecimalField(
        _("amount (£)"),
        **MONEY,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_EXPENSE)],
    )
    receipt = models.FileField(
        _("receipt (optional)"),
        upload_to=receipt_path,
        blank=True,
        validators=[FileExtensionValidator(RECEIPT_TYPES), validate_receipt_size],
        help_text=_("A photo or PDF: JPG, PNG or PDF, up to 5 MB."),
    )

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="engagement_expense_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: £{self.amount}"
