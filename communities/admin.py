import csv

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from communities import services
from communities.models import (
    Community,
    Invitation,
    InvolvementOption,
    Membership,
    MembershipPerspective,
    PartnerOrganisation,
)
from members.admin import UserAdmin
from members.models import User
from members.personal_data import csv_cell
from members.status import StatusReadOnlyInAdmin


class MembershipInline(admin.TabularInline):
    """Read-only, one query for all rows: change a membership on its own page."""

    model = Membership
    extra = 0
    fields = ["user", "role", "status", "joined_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "community")

    def has_add_permission(self, request, obj=None):
        return False


class InvolvementOptionInline(admin.TabularInline):
    model = InvolvementOption
    extra = 0


@admin.register(InvolvementOption)
class InvolvementOptionAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "position", "is_active"]
    list_filter = ["is_active", "community"]
    search_fields = ["name", "description", "community__name"]
    list_select_related = ["community"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "join_policy", "listed", "created_at"]
    list_filter = ["status", "join_policy", "listed"]
    search_fields = ["name", "slug", "purpose"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["partners"]
    inlines = [InvolvementOptionInline, MembershipInline]

    def save_model(self, request, obj, form, change):
        if change and "ground_rules" in form.changed_data:
            obj.ground_rules_version += 1
        super().save_model(request, obj, form, change)
        obj.ensure_default_involvement_options()


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "website"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]


class PerspectiveInline(admin.TabularInline):
    model = MembershipPerspective
    extra = 0


@admin.register(Membership)
class MembershipAdmin(StatusReadOnlyInAdmin, admin.ModelAdmin):
    list_display = ["user", "community", "role", "status", "joined_at"]
    list_filter = ["status", "role", "community", "perspective_set__perspective"]
    search_fields = ["user__email", "user__name", "community__name"]
    list_select_related = ["user", "community"]
    autocomplete_fields = ["user", "community", "decided_by"]
    filter_horizontal = ["involvement"]
    inlines = [PerspectiveInline]
    actions = ["approve_requests", "export_csv"]

    @admin.action(description=_("Approve the selected requests to join"))
    def approve_requests(self, request, queryset):
        approved, refused = 0, []
        for membership in queryset.filter(status=Membership.Status.REQUESTED).select_related(
            "community", "user"
        ):
            try:
                services.decide_request(membership=membership, approve=True, by=request.user)
            except ValidationError as error:
                refused.append(f"{membership}: {' '.join(error.messages)}")
            else:
                approved += 1
        self.message_user(
            request,
            ngettext("%d request approved.", "%d requests approved.", approved) % approved,
            messages.SUCCESS,
        )
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description=_("Export the selected memberships as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="memberships.csv"'
        writer = csv.writer(response)
        writer.writerow(["community", "name", "email", "role", "status", "joined"])
        for m in queryset.select_related("community", "user").iterator(chunk_size=500):
            row = [
                m.community.slug,
                m.user.display_name,
                m.user.email,
                m.role,
                m.status,
                m.joined_at,
            ]
            writer.writerow([csv_cell(value) for value in row])
        return response


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "community", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["community", "role"]
    search_fields = ["email", "community__name"]
    list_select_related = ["community"]
    readonly_fields = ["token", "accepted_by", "invited_by"]


class MembershipForPersonInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["community", "role", "status", "joined_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("community", "user")

    def has_add_permission(self, request, obj=None):
        return False


# The person's page in the admin shows their memberships too. communities adds the inline
# because members, lower down, must not know about communities.
class PersonAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, MembershipForPersonInline]


admin.site.unregister(User)
admin.site.register(User, PersonAdmin)
