from datetime import timedelta

from django import forms
from django.db.models import Case, IntegerField, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from communities.forms import MemberField
from communities.models import Community, Membership
from engagement.models import (
    RECEIPT_TYPES,
    Activity,
    Claim,
    Expense,
    PaidRole,
    PaymentChoice,
    PaymentSettings,
    Rate,
    Registration,
    Session,
)
from members.choosing import offer_few
from members.models import User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# How far back a session can be claimed for from the form.
CLAIM_WINDOW = timedelta(days=180)
# What a receipt's first bytes must be for the type its name says.
SIGNATURES = {"pdf": (b"%PDF",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",),
              "png": (b"\x89PNG\r\n\x1a\n",)}  # fmt: skip


class ClaimForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What are you claiming for?"), choices=Claim.Kind.choices, widget=forms.RadioSelect
    )
    session = forms.ModelChoiceField(
        label=_("Which session"), queryset=Session.objects.none(), required=False
    )
    activity = forms.ChoiceField(
        label=_("What kind of work (for hours worked)"),
        choices=[("", _("Choose…"))]
        + [
            (a.value, a.label)
            for a in (
                Activity.PREPARATION,
                Activity.TRAINING,
                Activity.COFACILITATING,
                Activity.ROLE,
            )
        ],
        required=False,
    )
    paid_role = forms.ModelChoiceField(
        label=_("Which paid role (for a paid role's hours)"),
        queryset=PaidRole.objects.none(),
        required=False,
    )
    date = forms.DateField(
        label=_("Date (for a meeting or hours worked)"),
        required=False,
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )
    hours = forms.DecimalField(
        label=_("Hours"),
        required=False,
        min_value=0.25,
        max_value=24,
        decimal_places=2,
        help_text=_("For a session, leave it empty to use the session's length."),
        error_messages={
            "max_value": _("No more than 24 hours in a day."),
            "min_value": _("At least a quarter of an hour."),
        },
    )
    description = forms.CharField(
        label=_("What you did (optional)"), max_length=300, required=False
    )

    def __init__(self, *args, community: Community, claimant: User | None, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.now()
        sessions = (
            Session.objects.filter(
                community=community, starts_at__lte=now, starts_at__gte=now - CLAIM_WINDOW
            )
            .exclude(status__in=[Session.Status.DRAFT, Session.Status.CANCELLED])
            .order_by("-starts_at")
        )
        came = set()
        if claimant is not None:
            came = set(
                Registration.objects.filter(
                    user=claimant, attended=True, session__in=sessions
                ).values_list("session_id", flat=True)
            )
            today = timezone.localdate()
            self.fields["paid_role"].queryset = PaidRole.objects.filter(
                membership__user=claimant, membership__community=community
            ).exclude(ends_on__lt=today)
        self.fields["session"].queryset = sessions.only("title", "starts_at", "community_id")
        not_came = str(_(" – not recorded as coming"))
        self.fields["session"].label_from_instance = lambda s: (
            f"{s.title} ({date_format(timezone.localtime(s.starts_at), 'j M Y')})"
            + ("" if s.pk in came else not_came)
        )
        # The sessions the person came to first, then the latest.
        offer_few(
            self,
            "session",
            ranked=lambda found: found.annotate(
                came=Case(When(pk__in=came, then=1), default=0, output_field=IntegerField())
            ).order_by("-came", "-starts_at"),
        )

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Claim.Kind.SESSION and not cleaned.get("session"):
            self.add_error("session", _("Choose the session you came to."))
        if kind in (Claim.Kind.MEETING, Claim.Kind.HOURS) and not cleaned.get("date"):
            self.add_error("date", _("Give the date."))
        if kind == Claim.Kind.HOURS:
            if not cleaned.get("activity"):
                self.add_error("activity", _("Choose what kind of work it was."))
            if not cleaned.get("hours"):
                self.add_error("hours", _("Give the number of hours."))
            if cleaned.get("activity") == Activity.ROLE and not cleaned.get("paid_role"):
                self.add_error("paid_role", _("Choose the paid role."))
        day = cleaned.get("date")
        if day and day > timezone.localdate():
            self.add_error("date", _("The date cannot be in the future."))
        return cleaned


class OnBehalfForm(forms.Form):
    claimant = MemberField(label=_("Whose claim this is (entered from paper)"))

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["claimant"].community = community


class ExpenseForm(forms.ModelForm):
    class Meta:
        model = Expense
        fields = ["kind", "description", "amount", "receipt"]
        error_messages = {
            "amount": {
                "max_value": _("That is more than we repay for one expense: check the amount."),
                "min_value": _("The amount must be more than nothing."),
                "invalid": _("Enter an amount in pounds, such as 12.50."),
            }
        }
        widgets = {
            "receipt": forms.ClearableFileInput(
                attrs={"accept": ",".join(f".{t}" for t in RECEIPT_TYPES)}
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False
        self.fields["amount"].required = False

    def clean_receipt(self):
        receipt = self.cleaned_data.get("receipt")
        if receipt and hasattr(receipt, "read"):
            extension = receipt.name.rsplit(".", 1)[-1].lower()
            head = receipt.read(16)
            receipt.seek(0)
            if not head.startswith(SIGNATURES.get(extension, (b"\x00\x01",))):
                raise forms.ValidationError(
                    _("That file is not a JPG, PNG or PDF, whatever its name says.")
                )
        return receipt

    def clean(self):
        cleaned = super().clean()
        filled = (
            cleaned.get("amount") is not None
            or cleaned.get("description")
            or cleaned.get("receipt")
            or "amount" in self.errors
        )
        if filled and not cleaned.get("kind"):
            self.add_error("kind", _("Choose what the expense was for."))
        if filled and cleaned.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Give the amount."))
        return cleaned

    def row(self) -> dict | None:
        data = self.cleaned_data
        if data.get("amount") is None:
            return None
        return {
            "kind": data["kind"],
            "description": data.get("description", ""),
            "amount": data["amount"],
            "receipt": data.get("receipt") or "",
        }


ExpenseFormSet = forms.formset_factory(ExpenseForm, extra=3, max_num=6, validate_max=True)


class DecideForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("Approve")),
            ("query", _("Ask a question")),
            ("reject", _("Do not approve")),
        ],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Your question, or why not (the person will read it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("query", "reject") and not (cleaned.get("text") or "").strip():
            self.add_error("text", _("Write the question, or say why not."))
        return cleaned


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class PaidForm(forms.Form):
    paid_on = forms.DateField(
        label=_("Paid on"),
        widget=DATE_INPUT,
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )
    reference = forms.CharField(label=_("Payment reference"), max_length=100)

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError(_("The payment date cannot be in the future."))
        return paid_on


class RateForm(forms.ModelForm):
    class Meta:
        model = Rate
        fields = ["activity", "basis", "amount", "valid_from"]
        widgets = {"valid_from": DATE_INPUT}
        error_messages = {"amount": {"max_value": _("That is more than any rate we expect.")}}

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community

    def clean(self):
        cleaned = super().clean()
        clash = Rate.objects.filter(
            community=self.instance.community,
            activity=cleaned.get("activity"),
            valid_from=cleaned.get("valid_from"),
        ).exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error(
                "valid_from",
                _(
                    "There is already a rate for this activity from this "
                    "date. Change that one instead."
                ),
            )
        return cleaned


class PaymentSettingsForm(forms.ModelForm):
    class Meta:
        model = PaymentSettings
        fields = ["budget", "threshold"]


class PaidRoleForm(forms.ModelForm):
    person = MemberField(label=_("Member"))

    class Meta:
        model = PaidRole
        fields = ["title", "hours_per_month", "hourly_rate", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT}

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.fields["person"].community = community
        self.order_fields(["person"])

    def save(self, commit=True):
        self.instance.membership = Membership.objects.get(
            community=self.community, user=self.cleaned_data["person"]
        )
        return super().save(commit)


class PaymentChoiceForm(forms.ModelForm):
    class Meta:
        model = PaymentChoice
        fields = ["choice", "lower_percent", "charity"]
        widgets = {"choice": forms.RadioSelect}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("choice") == PaymentChoice.Choice.LOWER and not cleaned.get("lower_percent"):
            self.add_error("lower_percent", _("Say what share you will take, from 1 to 99."))
        if (
            cleaned.get("choice") == PaymentChoice.Choice.CHARITY
            and not (cleaned.get("charity") or "").strip()
        ):
            self.add_error("charity", _("Say which charity."))
        return cleaned


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE_INPUT, required=False)
    end = forms.DateField(label=_("To"), widget=DATE_INPUT, required=False)
