"""Sessions, surveys and payments in the Django admin, for site staff."""

from decimal import Decimal

from django.contrib import admin
from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from engagement.models import (
    Answer,
    Choice,
    Claim,
    Expense,
    KeyPoint,
    PaidRole,
    Participation,
    PaymentChoice,
    PaymentSettings,
    Question,
    Rate,
    Registration,
    Response,
    Session,
    Survey,
    Venue,
)
from members.status import StatusReadOnlyInAdmin

# Links typed without a scheme are taken as https, as on the coordinators' own forms.
HTTPS_LINKS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_LINKS
    list_display = ["name", "community", "kind", "step_free", "hearing_loop"]
    list_filter = ["kind", "community", "step_free", "accessible_toilet", "hearing_loop"]
    search_fields = ["name", "address"]
    list_select_related = ["community"]


class RegistrationInline(admin.TabularInline):
    model = Registration
    extra = 0
    fields = ["user", "status", "access_requirements", "access_details", "attended"]
    readonly_fields = ["user"]
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "session")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Session)
class SessionAdmin(StatusReadOnlyInAdmin, admin.ModelAdmin):
    formfield_overrides = HTTPS_LINKS
    list_display = ["title", "community", "kind", "starts_at", "status", "capacity"]
    list_filter = ["status", "kind", "community"]
    search_fields = ["title", "description"]
    list_select_related = ["community"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["venue", "facilitators"]
    inlines = [RegistrationInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["user", "session", "status", "queued_at", "attended"]
    list_filter = ["status", "attended", "session__community"]
    search_fields = ["user__email", "user__name", "session__title"]
    list_select_related = ["user", "session"]
    raw_id_fields = ["user", "session"]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "audience", "published", "opens_at", "closes_at"]
    list_filter = ["published", "audience", "community"]
    search_fields = ["title", "introduction"]
    list_select_related = ["community"]
    inlines = [QuestionInline]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "survey", "kind", "required", "position"]
    list_filter = ["kind", "survey__community"]
    search_fields = ["text"]
    list_select_related = ["survey"]
    inlines = [ChoiceInline]


class AnswerInline(admin.TabularInline):
    """A response's answers, as given: read here, never rewritten."""

    model = Answer
    extra = 0
    can_delete = False
    fields = readonly_fields = ["question", "text", "number", "chosen"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question").prefetch_related("choices")

    @admin.display(description=_("choices"))
    def chosen(self, answer) -> str:
        return ", ".join(choice.text for choice in answer.choices.all())


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["survey", "user", "on_behalf_of", "contact_by", "entered_by", "created_at"]
    list_filter = ["survey__community", "survey"]
    list_select_related = ["survey", "user"]
    raw_id_fields = ["user", "entered_by"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    """Answers to look up across responses (a word someone reported, say); each is changed
    only as part of its response, never here."""

    list_display = ["question", "short_text", "number", "response"]
    list_filter = ["question__survey__community", "question__survey"]
    list_select_related = ["question", "response"]
    search_fields = ["text"]
    fields = readonly_fields = ["response", "question", "text", "number", "choices"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("text"))
    def short_text(self, answer) -> str:
        return answer.text[:80]


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    """Who has answered which survey (never what they answered: an answer given without
    a name stays unnamed)."""

    list_display = ["survey", "user"]
    list_filter = ["survey__community"]
    list_select_related = ["survey", "user"]
    raw_id_fields = ["user"]
    search_fields = ["user__email", "user__name"]


@admin.register(KeyPoint)
class KeyPointAdmin(admin.ModelAdmin):
    """What was heard at a session, as its facilitators wrote it down."""

    list_display = ["short_text", "session", "created_by", "created_at"]
    list_filter = ["session__community"]
    list_select_related = ["session", "created_by"]
    raw_id_fields = ["session", "created_by"]
    search_fields = ["text"]
    readonly_fields = ["created_at"]

    @admin.display(description=_("what we heard"))
    def short_text(self, point) -> str:
        return point.text[:80]


# --- Paying people ------------------------------------------------------------------------------
#
# Coordinators run payments on their community's pages: rates, settings and paid roles under
# Manage, Payments; claims on the claim pages, through `engagement.payments`, which copy the
# rate in force onto each claim, apply the person's choice and tell them at each step. The
# admin is for looking things up and putting right what those pages cannot.
#
# Receipts are never linked here: media files are not served publicly, and a receipt is only
# for the claimant and the community's coordinators (the claim page's receipt link checks
# that). The admin shows whether a receipt exists, nothing more.

# Approved and paid claims are the finance record: they are not deleted here.
COUNTED = (Claim.Status.APPROVED, Claim.Status.PAID)


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    """A changed amount applies to claims made afterwards; claims already made keep the
    amount copied onto them."""

    list_display = ["activity", "community", "basis", "amount", "valid_from"]
    list_filter = ["activity", "basis", "community"]
    search_fields = ["community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]
    date_hierarchy = "valid_from"
    readonly_fields = ["created_at"]


@admin.register(PaymentSettings)
class PaymentSettingsAdmin(admin.ModelAdmin):
    list_display = ["community", "budget", "threshold"]
    search_fields = ["community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]


@admin.register(PaidRole)
class PaidRoleAdmin(admin.ModelAdmin):
    list_display = ["title", "person", "community", "hours_per_month", "hourly_rate",
                    "starts_on", "ends_on"]  # fmt: skip
    list_filter = ["membership__community"]
    search_fields = ["title", "membership__user__email", "membership__user__name"]
    list_select_related = ["membership__user", "membership__community"]
    autocomplete_fields = ["membership"]

    @admin.display(description=_("person"), ordering="membership__user__email")
    def person(self, obj):
        return obj.membership.user

    @admin.display(description=_("community"), ordering="membership__community__name")
    def community(self, obj):
        return obj.membership.community


@admin.register(PaymentChoice)
class PaymentChoiceAdmin(admin.ModelAdmin):
    list_display = ["person", "community", "choice", "lower_percent", "charity", "updated_at"]
    list_filter = ["choice", "membership__community"]
    search_fields = ["membership__user__email", "membership__user__name", "charity"]
    list_select_related = ["membership__user", "membership__community"]
    autocomplete_fields = ["membership"]
    readonly_fields = ["updated_at"]

    @admin.display(description=_("person"), ordering="membership__user__email")
    def person(self, obj):
        return obj.membership.user

    @admin.display(description=_("community"), ordering="membership__community__name")
    def community(self, obj):
        return obj.membership.community


def _has_receipt(expense) -> bool:
    return bool(expense.receipt)


class ExpenseInline(admin.TabularInline):
    """The claim's expenses, for reference: they are claimed and approved with the claim."""

    model = Expense
    extra = 0
    can_delete = False
    # Never the receipt field itself: its widget would link the raw media file.
    fields = ["kind", "description", "amount", "receipt_held"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("receipt"), boolean=True)
    def receipt_held(self, obj):
        return _has_receipt(obj)


class AttendanceFlagFilter(admin.SimpleListFilter):
    title = _("attendance")
    parameter_name = "attendance"

    def lookups(self, request, model_admin):
        return [("unrecorded", _("Not recorded as attending")), ("recorded", _("Recorded"))]

    def queryset(self, request, queryset):
        if self.value() in {"unrecorded", "recorded"}:
            return queryset.filter(not_recorded_as_attending=self.value() == "unrecorded")
        return queryset


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    """Claims, for site staff to look up.

    A claim's status moves on the coordinator pages (approve, ask a question, not approve,
    mark paid), through `engagement.payments`, which keeps to the status table, asks for a
    question or reason where one is due, and tells the person at each step. So here the
    status, the decision and payment details, and the money are read-only: the rate, its
    amount and basis, the fee and the payable amount were copied from the rate in force
    when the claim was made, and what the claim is for (the day, the hours, the activity) is
    read-only too, because changing it would not work the money out again. Claims are not
    added here either (a coordinator enters a paper claim on the community's pages, so the
    rate is copied and the coordinators are told). Only the wording of the description, the
    question, the answer and the reason can be corrected. Approved and paid claims are the
    finance record and cannot be deleted.
    """

    list_display = ["claimant", "community", "activity", "date", "hours", "payable",
                    "expenses", "status", "not_recorded_as_attending"]  # fmt: skip
    list_filter = ["status", AttendanceFlagFilter, "kind", "activity", "choice", "community"]
    search_fields = ["claimant__email", "claimant__name", "description", "payment_reference",
                     "session__title", "community__name"]  # fmt: skip
    list_select_related = ["claimant", "community"]
    date_hierarchy = "date"
    # Wording staff may correct; everything else on a claim is read-only here.
    correctable = ["description", "question", "answer", "decision_reason"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "community",
                    "claimant",
                    "entered_by",
                    "kind",
                    "session",
                    "activity",
                    "paid_role",
                    "date",
                    "hours",
                    "description",
                ]
            },
        ),
        (
            _("Money (copied when the claim was made)"),
            {
                "fields": [
                    "rate",
                    "rate_amount",
                    "rate_basis",
                    "fee",
                    "choice",
                    "payable",
                    "charity",
                    "expenses",
                ]
            },
        ),
        (
            _("Status (changed on the coordinator pages)"),
            {
                "fields": [
                    "status",
                    "status_changed_at",
                    "not_recorded_as_attending",
                    "question",
                    "answer",
                    "decision_reason",
                    "decided_by",
                    "decided_at",
                    "paid_on",
                    "payment_reference",
                    "created_at",
                ]
            },
        ),
    ]
    inlines = [ExpenseInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(expenses_sum=Sum("expenses__amount"))

    def get_readonly_fields(self, request, obj=None):
        fields = [name for _title, options in self.fieldsets for name in options["fields"]]
        return [name for name in fields if name not in self.correctable]

    def get_actions(self, request):
        # Deleting in bulk would take approved and paid claims with it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status in COUNTED:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("expenses (£)"), ordering="expenses_sum")
    def expenses(self, obj):
        return obj.expenses_sum or Decimal("0.00")


@admin.register(Expense)
class ExpenseAdmin(admin.ModelAdmin):
    """Read-only, like the claim's money: expenses are claimed and approved with their claim.
    The receipt itself is not shown (see above), only whether there is one."""

    list_display = ["claim", "kind", "amount", "receipt_held", "claim_status"]
    list_filter = ["kind", "claim__status", "claim__community"]
    search_fields = ["description", "claim__claimant__email", "claim__claimant__name"]
    list_select_related = ["claim__claimant", "claim__community"]
    fields = ["claim", "kind", "description", "amount", "receipt_held"]
    readonly_fields = fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.claim.status in COUNTED:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("receipt"), boolean=True)
    def receipt_held(self, obj):
        return _has_receipt(obj)

    @admin.display(description=_("claim status"), ordering="claim__status")
    def claim_status(self, obj):
        return obj.claim.get_status_display()
