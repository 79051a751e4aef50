from django.contrib import admin

from engagement.models import Choice, Question, Registration, Response, Session, Survey, Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
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
class SessionAdmin(admin.ModelAdmin):
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


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["survey", "user", "on_behalf_of", "contact_by", "entered_by", "created_at"]
    list_filter = ["survey__community", "survey"]
    list_select_related = ["survey", "user"]
    raw_id_fields = ["user", "entered_by"]
