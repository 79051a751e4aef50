"""Ideas and what becomes of them: themes, support, discussion, prioritisation, decisions."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from engagement.models import Answer, KeyPoint, Registration, Response, Session, Survey
from members.status import StatusModel

# Authors may correct a comment for this long after posting it.
COMMENT_EDIT_WINDOW = timedelta(minutes=15)

CONTACT_CHOICES = [
    ("", _("Not to be contacted")),
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("post", _("Post")),
]


class IdeaError(ValidationError):
    """A change to an idea that is refused, with a message that says why."""


class Theme(models.Model):
    """A strand of what a community hears, such as access or communication."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                "community", Lower("name"), name="improvement_theme_name_once_per_community"
            )
        ]

    def __str__(self) -> str:
        return self.name


def _count_of(model, field: str = "idea", **conditions):
    """The number of `model` rows pointing at each idea, as a subquery: it does not multiply
    rows the way joining two counts would."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")}, **conditions)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=models.IntegerField()), 0)


@dataclass(frozen=True)
class OnBehalfContact:
    """Someone without an account whose input was typed in from paper, and who agreed to be
    contacted."""

    name: str
    contact_by: str
    contact_details: str

    @property
    def contact_label(self) -> str:
        return str(dict(CONTACT_CHOICES).get(self.contact_by, ""))

    @property
    def key(self) -> tuple[str, str]:
        """The same person, however their details were spaced or capitalised."""
        return (self.contact_by, " ".join(self.contact_details.split()).lower())


# --- Merged ideas: one rule, three spellings ----------------------------------------------------
# An idea merged into another lives on in it: whatever answers the merged idea answers the idea
# it joined, and its people are that idea's contributors. Merges are flattened (an idea merged
# into one that is later merged moves with it), so one step always reaches the idea that
# stands. `IdeaQuerySet.with_merged()` is the group an idea stands for; these are the idea a
# row stands for, in the ORM, in SQL written by hand and in Python. Contributors, an update's
# audience, the loop's figures and "what happened to my input" all use them.


def standing_idea(path: str = "") -> Coalesce:
    """The idea that the idea at `path` (a relation such as "idea", or "" for the idea
    itself) stands for: the idea it was merged into, or itself."""
    if not path:
        return Coalesce("merged_into", "pk")
    return Coalesce(f"{path}__merged_into", path)


def standing_idea_sql(alias: str) -> str:
    """`standing_idea()` in hand-written SQL, for the idea table under `alias`."""
    return f"COALESCE({alias}.merged_into_id, {alias}.id)"


def standing_idea_of(pk: int, merged_into: int | None) -> int:
    """`standing_idea()` of an idea already read: its pk and its merged_into_id."""
    return merged_into or pk


def _compiled(queryset):
    """The queryset's SQL, compiled once, to embed as a subquery in several queries: embedded
    itself, it would be resolved and compiled again inside each, which costs more than
    running them. (A queryset that can match nothing is embedded as it is.)"""
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except (EmptyResultSet, FullResultSet):
        return queryset
    return RawSQL(sql, params, output_field=models.BigIntegerField())


def _contributor_ids(group):
    """See `IdeaQuerySet.contributor_ids`: `group` is the ideas' and their merged ideas' ids."""
    ideas = Idea.objects.filter(pk__in=group).order_by()
    sources = [
        ideas.values("author"),
        Support.objects.filter(idea__in=group).values("user"),
        Comment.objects.filter(idea__in=group).values("author"),
        Response.objects.filter(pk__in=ideas.values("survey_response")).values("user"),
        Registration.objects.filter(attended=True, session__in=ideas.values("session")).values(
            "user"
        ),
    ]
    first, *others = (source.order_by() for source in sources)
    return first.union(*others)


@dataclass
class Contributors:
    """Everyone whose input an idea (or several) holds: people with accounts, and people
    entered from paper who agreed to be contacted. Each person appears once."""

    members: models.QuerySet
    on_behalf: list[OnBehalfContact]

    def __len__(self) -> int:
        return self.members.count() + len(self.on_behalf)


class IdeaQuerySet(models.QuerySet):
    def listed(self):
        """Ideas that stand on their own: a merged idea lives on in the one it joined."""
        return self.exclude(status=Idea.Status.MERGED)

    def recount(self) -> int:
        """Set these ideas' support and comment counts from their rows (hidden comments do not
        count), in one UPDATE. The services that add or take away supports and comments call
        it for the ideas they touched, in their own transaction, so the counts can be read,
        and sorted by, like any column. Returns how many ideas were counted."""
        return self.update(
            support_count=_count_of(Support),
            comment_count=_count_of(Comment, hidden_at__isnull=True),
        )

    def search(self, text: str):
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(title__icontains=text) | Q(description__icontains=text))

    def with_merged(self):
        """These ideas and every idea merged into them (merges are flattened, so one step
        reaches them all). A union of two indexed look-ups: an OR of the two would make the
        database read every idea."""
        ids = self.order_by().values("pk")
        merged = Idea.objects.filter(merged_into__in=ids).order_by().values("pk")
        return Idea.objects.filter(pk__in=ids.union(merged))

    def contributor_ids(self):
        """The ids of everyone with an account whose input these ideas (merged ideas
        included) hold, as one subquery: a UNION of the indexed look-ups, one per kind of
        input. Some may be inactive or erased, and an id may be None; filter people by it."""
        return _contributor_ids(_compiled(self.with_merged().order_by().values("pk")))

    def contributors(self) -> Contributors:
        """Who contributed to these ideas, merged ideas included: authors, supporters,
        commenters, people whose survey answers the ideas were made from, people who came to
        the sessions they were made at, and people entered from paper who agreed to be
        contacted. People who deleted their account are left out.

        `members` is ordered by pk and reads each source through its index, so it can be
        counted, or walked in batches with `.filter(pk__gt=last)[:n]`, at any size."""
        from members.models import User

        group = _compiled(self.with_merged().order_by().values("pk"))
        members = User.objects.filter(
            pk__in=_contributor_ids(group), is_active=True, erased_at__isnull=True
        ).order_by("pk")
        group = Idea.objects.filter(pk__in=group)
        on_behalf = {}
        fields = ("on_behalf_of", "contact_by", "contact_details")
        paper = list(group.exclude(contact_by="").values_list(*fields)) + list(
            Response.objects.filter(pk__in=group.values("survey_response"))
            .exclude(contact_by="")
            .values_list(*fields)
        )
        for name, contact_by, details in paper:
            contact = OnBehalfContact(name, contact_by, details.strip())
            on_behalf.setdefault(contact.key, contact)
        return Contributors(members=members, on_behalf=list(on_behalf.values()))


class Idea(StatusModel):
    """Something a community could do, from a member, a session, a survey or paper."""

    # The revision key of who contributed to a community's ideas: community-contributors:<pk>
    # (see `improvement.loop.contributor_count`).
    CONTRIBUTORS_REVISION = "community-contributors"
    # The revision key of a community's record of its ideas and projects, community-record:
    # <pk>: what was decided, merged, themed, linked, updated and done, raised by every write
    # to those rows (followed in improvement.apps). An idea's and a project's pages keep
    # what they show of that record under it.
    RECORD_REVISION = "community-record"
    # The revision key of an idea's discussion, idea-discussion:<pk>: its comments, as its
    # page shows them a page at a time (followed in improvement.apps).
    DISCUSSION_REVISION = "idea-discussion"

    class Source(models.TextChoices):
        ONLINE = "online", _("Online")
        SESSION = "session", _("At a session")
        SURVEY = "survey", _("From a survey answer")
        PAPER = "paper", _("From paper")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONSIDERING = "considering", _("Under consideration")
        PRIORITISED = "prioritised", _("Prioritised")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        NOT_TAKEN_FORWARD = "not_taken_forward", _("Not taken forward")
        MERGED = "merged", _("Merged")

    # Which status may follow which. "Merged" comes only through merging, and "not taken
    # forward" only with a reason, so nothing is dropped silently.
    NEXT_STATUSES = {
        Status.NEW: {Status.CONSIDERING, Status.PRIORITISED, Status.NOT_TAKEN_FORWARD,
                     Status.MERGED},
        Status.CONSIDERING: {Status.PRIORITISED, Status.NOT_TAKEN_FORWARD, Status.MERGED},
        Status.PRIORITISED: {Status.CONSIDERING, Status.IN_PROGRESS, Status.NOT_TAKEN_FORWARD,
                             Status.MERGED},
        Status.IN_PROGRESS: {Status.PRIORITISED, Status.DONE, Status.NOT_TAKEN_FORWARD},
        Status.DONE: set(),
        Status.NOT_TAKEN_FORWARD: {Status.CONSIDERING, Status.PRIORITISED},
        Status.MERGED: set(),
    }  # fmt: skip

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"), max_length=4000)
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="ideas", verbose_name=_("themes")
    )
    source = models.CharField(
        _("where it came from"), max_length=10, choices=Source.choices, default=Source.ONLINE
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ideas",
        verbose_name=_("session"),
    )
    key_point = models.ForeignKey(
        KeyPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    survey_answer = models.ForeignKey(
        Answer, on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    # The response the answer belongs to: it outlives the answer when the person changes
    # their answers, so they stay a contributor.
    survey_response = models.ForeignKey(
        Response, on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ideas",
        verbose_name=_("author"),
    )
    # An idea typed in by a coordinator or partner for someone else, from paper or a session.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    on_behalf_of = models.CharField(
        _("whose idea this is"),
        max_length=200,
        blank=True,
        help_text=_("A name, or a description such as “a parent at the Firth Park drop-in”."),
    )
    contact_by = models.CharField(
        _("how they agreed to be contacted"), max_length=10, choices=CONTACT_CHOICES, blank=True
    )
    contact_details = models.CharField(_("contact details"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_ideas",
        verbose_name=_("merged into"),
    )
    decided_at = models.DateTimeField(_("last decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by the services that change supports and comments (see `recount`): the list shows
    # and sorts by them without counting every idea's rows.
    support_count = models.PositiveIntegerField(_("supporters"), default=0, editable=False)
    comment_count = models.PositiveIntegerField(_("comments"), default=0, editable=False)

    objects = IdeaQuerySet.as_manager()

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["community", "status", "-created_at"]),
            models.Index(fields=["community", "-decided_at"]),
            # The list's orders, read from an index rather than sorted: newest first and most
            # supported first (recently decided first has a PostgreSQL-only index, made in
            # migration 0007: SQLite refuses NULLS LAST in an index). The status last, so a
            # page of the list (merged ideas left out) is found in the index alone.
            models.Index(
                fields=["community", "-created_at", "-id", "status"],
                name="improvement_idea_newest",
            ),
            models.Index(
                fields=["community", "-support_count", "-created_at", "-id", "status"],
                name="improvement_idea_supported",
            ),
            # The ideas waiting longest, oldest first, without sorting them all.
            models.Index(fields=["community", "created_at"], name="improvement_idea_oldest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="improvement_merged_idea_points_somewhere",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("pk")),
                name="improvement_idea_not_merged_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("improvement:idea", args=[self.community.slug, self.pk])

    @property
    def is_open_for_discussion(self) -> bool:
        return self.status != self.Status.MERGED

    @property
    def source_label(self) -> str:
        return self.get_source_display()

    def transition_error(self, status: str, *, reason: str = "") -> str | None:
        """Why this idea cannot move to `status` now, or None if it can. "Not taken forward"
        needs a `reason`, which `set_status(..., reason=...)` passes on."""
        labels = dict(self.Status.choices)
        if status == self.status:
            return None
        if self.status == self.Status.MERGED:
            return str(_("This idea was merged into another one. Change that idea instead."))
        if self.status == self.Status.DONE:
            return str(
                _(
                    "This idea is done, so its status stays as it is. Publish an update to say "
                    "more about it."
                )
            )
        if status == self.Status.MERGED and self.merged_into_id is None:
            return str(_("Merge the idea into another one, so nothing it holds is lost."))
        if status == self.Status.NOT_TAKEN_FORWARD and not reason.strip():
            return str(
                _("Say why the idea is not taken forward: record a decision with its reason.")
            )
        if status not in self.NEXT_STATUSES[self.status]:
            options = sorted(str(labels[s]) for s in self.NEXT_STATUSES[self.status])
            return str(
                format_lazy(
                    _(
                        "An idea that is “{now}” cannot become “{new}” directly. From here it can "
                        "become: {options}."
                    ),
                    now=labels[self.status],
                    new=labels.get(status, status),
                    options=", ".join(f"“{o}”" for o in options),
                )
            )
        return None

    def status_moved(self, before, *, by, at) -> list[str]:
        return ["merged_into"] if self.status == self.Status.MERGED else []

    def allowed_statuses(self) -> list[tuple[str, str]]:
        """The statuses a coordinator may pick by hand (merging and "not taken forward"
        have their own forms)."""
        hand = self.NEXT_STATUSES[self.status] - {
            self.Status.MERGED,
            self.Status.NOT_TAKEN_FORWARD,
        }
        return [(value, label) for value, label in self.Status.choices if value in hand]


class IdeaEvent(models.Model):
    """One line of an idea's history."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Added")
        STATUS = "status", _("Status changed")
        MERGED_INTO = "merged_into", _("Merged into another idea")
        MERGED_FROM = "merged_from", _("Another idea merged into this one")
        PRIORITISED = "prioritised", _("Prioritised")
        DECIDED = "decided", _("Decided")
        UPDATED = "updated", _("Update published")

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Idea.Status.choices, blank=True)
    other_idea = models.ForeignKey(
        Idea, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("idea history entry")
        verbose_name_plural = _("idea history")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.idea}"


class Support(models.Model):
    """A member saying "I want this too". Once each; they can withdraw it."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_supports"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="improvement_support_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} supports {self.idea}"


class Comment(models.Model):
    """Discussion under an idea, under the community's ground rules."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    # Where a comment was first made, when its idea was merged into another.
    moved_from = models.ForeignKey(
        Idea, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="idea_comments",
    )
    text = models.TextField(_("comment"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.TextField(_("why it was hidden"), blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["author", "-created_at"])]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class CommentReport(models.Model):
    """A member telling coordinators that a comment may break the ground rules."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.TextField(_("what is wrong"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("comment report")
        verbose_name_plural = _("comment reports")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"], name="improvement_report_comment_once"
            )
        ]

    def __str__(self) -> str:
        return f"Report on {self.comment}"


class Decision(models.Model):
    """What was decided about an idea, always with a plain-language reason."""

    class Outcome(models.TextChoices):
        ADOPT = "adopt", _("Adopt")
        ADAPT = "adapt", _("Adapt")
        NOT_NOW = "not_now", _("Not now")
        NOT_TAKEN_FORWARD = "not_taken_forward", _("Not taken forward")

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(_("decision"), max_length=20, choices=Outcome.choices)
    reason = models.TextField(_("why, in plain language"), max_length=3000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="improvement_decision_has_a_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.idea}"
