from django.contrib import admin

from communities.models import Community, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "listed", "created_at"]
    list_filter = ["status", "listed"]
    search_fields = ["name", "slug", "purpose"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "role", "joined_at"]
    list_filter = ["role", "community"]
    search_fields = ["user__email", "user__name", "community__name"]
    list_select_related = ["user", "community"]
    autocomplete_fields = ["user", "community"]
