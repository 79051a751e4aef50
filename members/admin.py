from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from members import outbox
from members.models import Heartbeat, Notification, User

# EqualityMonitoring is deliberately not registered. Its answers are special-category data
# (ethnicity, disability, sex and gender identity): nobody, site staff included, may read one
# person's answers. They are used only as totals with small numbers suppressed
# (`EqualityMonitoring.objects.counts_by`).


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class ErasedFilter(admin.SimpleListFilter):
    title = _("erased")
    parameter_name = "erased"

    def lookups(self, request, model_admin):
        return [("yes", _("Erased")), ("no", _("Not erased"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(erased_at__isnull=self.value() == "no")
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = [ErasedFilter, "is_active", "is_staff", "is_superuser", "language"]
    search_fields = ["email", "name"]
    readonly_fields = ["erased_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("About"), {"fields": ["name", "pronouns", "access_needs", "language"]}),
        (
            _("How we keep in touch"),
            {
                "fields": [
                    "reminders_delivery",
                    "updates_delivery",
                    "news_delivery",
                    "alerts_delivery",
                    "contact_channel",
                    "phone",
                    "postal_address",
                ]
            },
        ),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined", "erased_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
    readonly_fields = ["name", "beat_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "to",
        "community",
        "state",
        "channel",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["state", "kind", "channel", "delivery", "community"]
    search_fields = ["email", "recipient__email", "recipient__name"]
    list_select_related = ["recipient", "community"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [
        "recipient", "email", "kind", "group", "channel", "delivery", "community", "about_type",
        "about_id", "key", "state", "attempts", "last_error", "claim", "claimed_at",
        "next_attempt_at", "created_at", "sent_at",
    ]  # fmt: skip
    exclude = ["context"]  # account emails hold secret links until sent

    @admin.display(description=_("to"), ordering="email")
    def to(self, row):
        return row.email or row.recipient

    @admin.action(description=_("Try the selected failed notifications again"))
    def retry(self, request, queryset):
        count = outbox.retry_failed(rows=queryset)
        self.message_user(request, _("%d notifications will be tried again.") % count)

    def has_add_permission(self, request):
        return False
