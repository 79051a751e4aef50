"""Ideas in the Django admin, for site staff.

Coordinators run ideas on their community's pages; the admin is for looking things up and
putting right what those pages cannot. So the admin does not write history:

- An idea's status, what it was merged into and when it was last decided are read-only
  here. Status changes, merging and decisions are made on the coordinator pages (through
  `improvement.services`), which keep to the status table, ask for a reason where one is
  due and write the idea's history. There is deliberately no admin action for them.
- Ideas and decisions are not added here, for the same reason; history entries and scores
  can only be read. (They can be deleted, because deleting an idea, say spam, deletes
  its history and scores with it.)
- A round's status moves on the coordinator pages too (opening it tells the scorers); its
  criteria can be changed here only while it is being set up, so the weights never change
  under scores already given.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from improvement.charts import DriverError, parse_drivers
from improvement.models import (
    Comment,
    CommentReport,
    Criterion,
    Cycle,
    DataPoint,
    Decision,
    Idea,
    IdeaEvent,
    Measure,
    PrioritisationRound,
    Project,
    Score,
    Scorer,
    Support,
    TeamMember,
    Theme,
    Update,
)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown for reference: nothing added, changed or deleted through them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "position", "idea_count"]
    list_filter = ["community"]
    search_fields = ["name", "description", "community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(idea_count=Count("ideas", distinct=True))

    @admin.display(description=_("ideas"), ordering="idea_count")
    def idea_count(self, obj):
        return obj.idea_count


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ["outcome", "reason", "decided_by", "decided_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("decided_by")


class IdeaEventInline(ReadOnlyInline):
    model = IdeaEvent
    fk_name = "idea"
    fields = ["at", "kind", "status", "actor", "other_idea", "note"]
    readonly_fields = fields
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "other_idea")


@admin.register(Idea)
class IdeaAdmin(admin.ModelAdmin):
    # The on-behalf name and contact details are personal data: they show on the change
    # form only, never in the list. They can be searched, so a request for someone's data
    # can be answered.
    list_display = [
        "title",
        "community",
        "status",
        "source",
        "author",
        "support_count",
        "comment_count",
        "created_at",
    ]
    list_filter = ["status", "source", "community", "themes"]
    search_fields = [
        "title",
        "description",
        "community__name",
        "author__email",
        "author__name",
        "on_behalf_of",
        "contact_details",
    ]
    list_select_related = ["community", "author"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["author", "entered_by", "session", "survey"]
    raw_id_fields = ["key_point", "survey_answer"]
    filter_horizontal = ["themes"]
    readonly_fields = [
        "community",
        "status",
        "status_changed_at",
        "merged_into",
        "decided_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["community", "title", "description", "themes"]}),
        (
            _("Status (changed on the coordinator pages)"),
            {"fields": ["status", "status_changed_at", "merged_into", "decided_at"]},
        ),
        (
            _("Where it came from"),
            {
                "fields": [
                    "source",
                    "session",
                    "key_point",
                    "survey",
                    "survey_answer",
                    "author",
                    "entered_by",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        (
            _("Entered for someone else (personal data)"),
            {"fields": ["on_behalf_of", "contact_by", "contact_details"]},
        ),
    ]
    inlines = [DecisionInline, IdeaEventInline]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "themes" in form.base_fields:
            # Only the idea's own community's themes, as on the coordinator pages.
            field = form.base_fields["themes"]
            field.queryset = field.queryset.filter(community=obj.community_id)
        return form

    def has_add_permission(self, request):
        # Ideas are added on the community's pages, so their history starts right.
        return False


@admin.register(IdeaEvent)
class IdeaEventAdmin(admin.ModelAdmin):
    list_display = ["idea", "kind", "status", "actor", "at"]
    list_filter = ["kind", "idea__community"]
    search_fields = ["idea__title", "note", "actor__email", "actor__name"]
    list_select_related = ["idea", "actor"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class KeepsIdeaCounts:
    """Supports and comments added, moved or deleted here keep their ideas' counts right,
    as the services do."""

    def save_model(self, request, obj, form, change):
        before = set()
        if change:
            before = set(type(obj).objects.filter(pk=obj.pk).values_list("idea_id", flat=True))
        super().save_model(request, obj, form, change)
        Idea.objects.filter(pk__in=before | {obj.idea_id}).recount()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        Idea.objects.filter(pk=obj.idea_id).recount()

    def delete_queryset(self, request, queryset):
        ideas = set(queryset.values_list("idea_id", flat=True))
        super().delete_queryset(request, queryset)
        Idea.objects.filter(pk__in=ideas).recount()


@admin.register(Support)
class SupportAdmin(KeepsIdeaCounts, admin.ModelAdmin):
    list_display = ["idea", "user", "created_at"]
    list_filter = ["idea__community"]
    search_fields = ["idea__title", "user__email", "user__name"]
    list_select_related = ["idea", "user"]
    autocomplete_fields = ["idea", "user"]


class CommentReportInline(ReadOnlyInline):
    model = CommentReport
    fields = ["reporter", "reason", "created_at", "resolved_at", "resolved_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter", "resolved_by")


class HiddenFilter(admin.SimpleListFilter):
    title = _("hidden")
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return [("yes", _("Hidden")), ("no", _("Showing"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(hidden_at__isnull=self.value() == "no")
        return queryset


@admin.register(Comment)
class CommentAdmin(KeepsIdeaCounts, admin.ModelAdmin):
    """Read-only: comments are moderated on the coordinator pages, where hiding one records
    who hid it and why. Staff can still delete one that must go."""

    list_display = ["__str__", "idea", "author", "created_at", "is_hidden"]
    list_filter = [HiddenFilter, "idea__community"]
    search_fields = ["text", "idea__title", "author__email", "author__name"]
    list_select_related = ["idea", "author"]
    date_hierarchy = "created_at"
    inlines = [CommentReportInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("hidden"), boolean=True, ordering="hidden_at")
    def is_hidden(self, obj):
        return obj.is_hidden


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("yes", _("Resolved")), ("no", _("Waiting"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(resolved_at__isnull=self.value() == "no")
        return queryset


@admin.register(CommentReport)
class CommentReportAdmin(admin.ModelAdmin):
    list_display = ["comment", "reporter", "created_at", "resolved_at"]
    list_filter = [ResolvedFilter, "comment__idea__community"]
    search_fields = ["reason", "comment__text", "reporter__email", "reporter__name"]
    list_select_related = ["comment", "reporter"]
    readonly_fields = ["comment", "reporter", "created_at", "resolved_at", "resolved_by"]

    def has_add_permission(self, request):
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Decisions are made on the coordinator pages, which move the idea's status and tell
    the people who gave the input. Here only the wording of a reason can be corrected."""

    list_display = ["idea", "outcome", "decided_by", "decided_at"]
    list_filter = ["outcome", "idea__community"]
    search_fields = ["reason", "idea__title", "decided_by__email", "decided_by__name"]
    list_select_related = ["idea", "decided_by"]
    readonly_fields = ["idea", "outcome", "decided_by", "decided_at"]
    date_hierarchy = "decided_at"

    def has_add_permission(self, request):
        return False


def _is_draft(round_) -> bool:
    return round_ is not None and round_.status == PrioritisationRound.Status.DRAFT


class CriterionInline(admin.TabularInline):
    """Changeable only while the round is being set up."""

    model = Criterion
    extra = 0
    fields = ["name", "description", "weight", "position"]

    def has_add_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_delete_permission(request, obj)


class ScorerInline(ReadOnlyInline):
    """Scorers are invited on the coordinator pages, which check that they are members."""

    model = Scorer
    fields = ["user", "group", "invited_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(PrioritisationRound)
class PrioritisationRoundAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "community",
        "status",
        "idea_count",
        "scorer_count",
        "opened_at",
        "closed_at",
    ]
    list_filter = ["status", "community"]
    search_fields = ["title", "description", "community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["ideas"]
    readonly_fields = ["community", "status", "created_by", "created_at", "opened_at", "closed_at"]
    inlines = [CriterionInline, ScorerInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                idea_count=Count("ideas", distinct=True),
                scorer_count=Count("scorers", distinct=True),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # The ideas being scored stay as they were once scoring starts.
        if _is_draft(obj):
            return self.readonly_fields
        return [*self.readonly_fields, "ideas"]

    def has_add_permission(self, request):
        # Rounds are set up on the coordinator pages, with the default criteria.
        return False

    @admin.display(description=_("ideas"), ordering="idea_count")
    def idea_count(self, obj):
        return obj.idea_count

    @admin.display(description=_("scorers"), ordering="scorer_count")
    def scorer_count(self, obj):
        return obj.scorer_count


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["name", "round", "weight", "position"]
    list_filter = ["round__status", "round__community"]
    search_fields = ["name", "description", "round__title"]
    list_select_related = ["round"]
    readonly_fields = ["round"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return (obj is None or _is_draft(obj.round)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or _is_draft(obj.round)) and super().has_delete_permission(request, obj)


@admin.register(Scorer)
class ScorerAdmin(admin.ModelAdmin):
    list_display = ["user", "round", "group", "invited_at"]
    list_filter = ["group", "round__status", "round__community"]
    search_fields = ["user__email", "user__name", "round__title"]
    list_select_related = ["user", "round"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ["idea", "criterion", "value", "scorer_user", "scorer_group", "updated_at"]
    list_filter = ["value", "scorer__group", "scorer__round"]
    search_fields = ["idea__title", "criterion__name", "scorer__user__email", "scorer__user__name"]
    list_select_related = ["idea", "criterion", "scorer__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("scorer"), ordering="scorer__user__email")
    def scorer_user(self, obj):
        return obj.scorer.user

    @admin.display(description=_("scores count as"), ordering="scorer__group")
    def scorer_group(self, obj):
        return obj.scorer.get_group_display()


@admin.register(Update)
class UpdateAdmin(admin.ModelAdmin):
    """Updates are written and published on the coordinators' pages, where publishing tells
    people; here staff can read them and correct a typo in a draft."""

    list_display = ["title", "community", "status", "published_at", "told_count"]
    list_filter = ["status", "community"]
    search_fields = ["title", "what_we_heard", "what_we_did", "community__name"]
    list_select_related = ["community"]
    date_hierarchy = "created_at"
    readonly_fields = ["status", "published_at", "published_by", "told_count", "created_by"]
    filter_horizontal = ["ideas", "sessions", "surveys"]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return [f.name for f in obj._meta.fields] + ["ideas", "sessions", "surveys"]
        return self.readonly_fields


class TeamInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    autocomplete_fields = ["user"]


class CycleInline(admin.StackedInline):
    model = Cycle
    extra = 0


class ProjectAdminForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["community", "title", "aim_what", "aim_how_much", "aim_by_when", "ideas",
                  "driver_diagram", "result"]  # fmt: skip

    def clean_driver_diagram(self):
        text = self.cleaned_data["driver_diagram"]
        try:
            parse_drivers(text)
        except DriverError as error:
            raise forms.ValidationError(error.problems) from None
        return text


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = ProjectAdminForm
    """Status moves on the project page, where it also moves the project's ideas."""

    list_display = ["title", "community", "status", "starts_on", "ends_on", "aim_by_when"]
    list_filter = ["status", "community"]
    search_fields = ["title", "aim_what", "result", "community__name"]
    list_select_related = ["community"]
    readonly_fields = ["status", "starts_on", "ends_on", "result_published_at", "created_by"]
    filter_horizontal = ["ideas"]
    inlines = [TeamInline, CycleInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "ideas":
            kwargs["queryset"] = Idea.objects.select_related("community")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class DataPointInline(admin.TabularInline):
    model = DataPoint
    extra = 0


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "chart", "target"]
    list_filter = ["kind", "chart"]
    search_fields = ["name", "definition", "project__title"]
    list_select_related = ["project"]
    inlines = [DataPointInline]


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ["change", "project", "starts_on", "ends_on", "act"]
    list_filter = ["act"]
    search_fields = ["change", "prediction", "project__title"]
    list_select_related = ["project"]


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "added_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name", "project__title"]
    list_select_related = ["user", "project"]
    autocomplete_fields = ["user"]


@admin.register(DataPoint)
class DataPointAdmin(admin.ModelAdmin):
    list_display = ["measure", "when", "value", "astronomical"]
    list_filter = ["astronomical"]
    search_fields = ["measure__name", "note"]
    list_select_related = ["measure"]
    date_hierarchy = "when"
