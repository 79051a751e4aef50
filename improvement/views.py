"""Ideas as members and the public see them: the list, one idea, adding, supporting,
discussing, and scoring a prioritisation round."""

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communities.access import (
    ArchivedError,
    archived_message,
    get_membership,
    may_change,
    may_coordinate,
)
from communities.models import Community
from improvement import access, loop, services
from improvement.forms import (
    CommentForm,
    IdeaFilterForm,
    IdeaForm,
    OnBehalfIdeaForm,
    ReportForm,
    ScoreSheetForm,
)
from improvement.models import (
    COMMENT_EDIT_WINDOW,
    Comment,
    Decision,
    Idea,
    PrioritisationRound,
    Scorer,
    Support,
)
from improvement.update_views import updates_for_idea
from members import revisions
from members.computed import computed, version_of
from members.models import public_name
from members.rendering import render_form

IDEAS_PER_PAGE = 20
# What a card in the list shows (with its theme names): all it may read, and its cache key.
LISTED_FIELDS = ("pk", "title", "status", "source", "support_count", "comment_count")
COMMENT_EDIT_MINUTES = int(COMMENT_EDIT_WINDOW.total_seconds() // 60)
COMMENTS_PER_PAGE = 50
# What an idea's page shows of the idea itself (with all of its community).
SHOWN_FIELDS = ("pk", "community_id", "title", "description", "status", "source", "created_at",
                "support_count", "comment_count", "merged_into_id", "author__name",
                "author__erased_at", "session__title", "survey__title")  # fmt: skip


def _label(choices, value: str) -> str:
    """A choice's label, as a model's get_FOO_display() gives it."""
    return dict(choices).get(value, value)


class CommentLine(NamedTuple):
    """What the discussion shows of one comment. Read as values, not as models (a page of 50
    costs a third as much), and all of it is in its repr, the key its rendering is kept by."""

    pk: int
    text: str
    created_at: datetime
    edited_at: datetime | None
    is_hidden: bool
    hidden_reason: str
    author_id: int | None
    author_name: str  # the public name; empty when the account is gone
    moved_from_title: str | None
    mine: bool  # written by the person looking


class DecisionLine(NamedTuple):
    """What the page shows of a decision on the idea, or on an idea merged into it."""

    idea_id: int
    idea_title: str
    outcome: str
    reason: str
    decided_at: datetime
    decided_by_name: str  # the public name; empty when the account is gone

    def get_outcome_display(self) -> str:
        return _label(Decision.Outcome.choices, self.outcome)


class MergedIdea(NamedTuple):
    """An idea merged into the one shown: listed by its title."""

    pk: int
    title: str


class EventLine(NamedTuple):
    """One line of the idea's history."""

    at: datetime
    kind: str
    status: str
    other_idea_title: str | None
    note: str

    def get_status_display(self) -> str:
        return _label(Idea.Status.choices, self.status)


COMMENT_VALUES = ("pk", "text", "created_at", "edited_at", "hidden_at", "hidden_reason",
                  "author_id", "author__name", "author__erased_at",
                  "moved_from__title")  # fmt: skip


def _community(slug) -> Community:
    return get_object_or_404(Community, slug=slug)


def _idea(community, pk) -> Idea:
    """One of this community's ideas; another community's is not found."""
    idea = get_object_or_404(
        Idea.objects.select_related("merged_into", "author", "session", "survey"),
        community=community,
        pk=pk,
    )
    idea.community = community
    return idea


def _follow_merge(idea):
    """A merged idea's address leads to the idea it joined, which says so."""
    url = reverse("improvement:idea", args=[idea.community.slug, idea.merged_into_id])
    return redirect(f"{url}?{urlencode({'merged_from': idea.pk})}")


class CountedPaginator(Paginator):
    """A paginator given its count, where the count is kept already."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _page_ids(page, ids):
    """The ids of a page's ideas, as a subquery. A page nearer the end is found from the end,
    in the reverse order, so the index is walked past fewer rows: the last page of 50,000
    costs what the first does."""
    if not page.paginator.count:
        return ids.none()
    start = page.start_index() - 1
    size = page.end_index() - start
    after = page.paginator.count - start - size
    if after < start:
        return ids.reverse()[after : after + size]
    return ids[start : start + size]


def idea_list(request, slug):
    community = _community(slug)
    # The community's themes (offered by the filter) and its number of standing ideas are
    # kept, under revisions read first.
    listed_revision, record_revision = revisions.read(
        revisions.key(loop.IDEAS_REVISION, community.pk),
        revisions.key(Idea.RECORD_REVISION, community.pk),
    )
    themes = computed(
        "improvement-theme-choices",
        version_of(community.pk, record_revision),
        lambda: list(community.themes.values_list("pk", "name")),
    )
    form = IdeaFilterForm(request.GET or None, community=community, themes=themes)
    # The counts are kept on each idea, so the "most supported" order sorts by a column. The
    # page is found in an index alone (ids only), and then only its rows are read.
    ideas = form.filter(Idea.objects.filter(community=community))
    ids = ideas.values_list("pk", flat=True)
    if form.narrows():
        paginator = Paginator(ids, IDEAS_PER_PAGE)
    else:
        listed = computed(
            "improvement-listed-ideas",
            version_of(community.pk, listed_revision),
            lambda: Idea.objects.filter(community=community).listed().count(),
        )
        paginator = CountedPaginator(ids, IDEAS_PER_PAGE, count=listed)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _cards(
        Idea.objects.filter(pk__in=_page_ids(page, ids)).order_by(*ideas.query.order_by)
    )
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    membership = get_membership(request.user, community)
    return render(
        request,
        "improvement/idea_list.html",
        {
            "community": community,
            "form": form,
            # The same for everyone who asks the same: rendered once, then kept.
            "filter_form": render_form(form, name="improvement-idea-filter"),
            "page": page,
            "shown": [idea.shown for idea in page.object_list],
            "query": query,
            "membership": membership,
            "may_add": access.may_add_idea(request.user, community, membership),
            "may_enter": access.may_add_idea_for_someone(request.user, community, membership),
            "read_only": not may_change(community),
        },
    )


@dataclass
class IdeaCard:
    """What an idea's card in the list shows: read as plain values, with no model made."""

    pk: int
    title: str
    status: str
    source: str
    support_count: int
    comment_count: int
    theme_names: list[str] = dataclasses.field(default_factory=list)

    def get_status_display(self) -> str:
        return Idea.Status(self.status).label

    def get_source_display(self) -> str:
        return Idea.Source(self.source).label

    @property
    def shown(self) -> tuple:
        """All the card shows, to keep its rendering under."""
        return (*(getattr(self, name) for name in LISTED_FIELDS), self.theme_names)


def _cards(ideas) -> list[IdeaCard]:
    """The ideas for the cards, in their order, each with its theme names in the themes'
    order: one row per idea and theme, in one query of plain values."""
    rows = ideas.order_by(*ideas.query.order_by, "themes__position", "themes__name").values_list(
        *LISTED_FIELDS, "themes__name"
    )
    cards: dict[int, IdeaCard] = {}
    for *values, theme_name in rows:
        card = cards.get(values[0])
        if card is None:
            card = cards[values[0]] = IdeaCard(*values)
        if theme_name is not None:
            card.theme_names.append(theme_name)
    return list(cards.values())


def _comments_page(idea: Idea, number, *, discussion: int, people: int):
    """A page of the idea's comments, its rows read as values: their number and each page
    kept per revision of the discussion (and of people's names, which it shows). Whose
    comment is whose is decided for the reader afterwards (`_comment_lines`)."""
    comments = idea.comments.all()
    count = computed("improvement-comment-count", version_of(idea.pk, discussion), comments.count)
    page = CountedPaginator(comments, COMMENTS_PER_PAGE, count=count).get_page(number)
    first = (page.number - 1) * COMMENTS_PER_PAGE
    page.object_list = computed(
        "improvement-comment-page",
        version_of(idea.pk, discussion, people, page.number),
        lambda: list(comments.values_list(*COMMENT_VALUES)[first : first + COMMENTS_PER_PAGE]),
    )
    return page


def _comment_lines(comments, user) -> list[CommentLine]:
    return [
        CommentLine(
            pk=pk,
            text=text,
            created_at=created_at,
            edited_at=edited_at,
            is_hidden=hidden_at is not None,
            hidden_reason=hidden_reason,
            author_id=author_id,
            author_name=public_name(name, erased_at) if author_id is not None else "",
            moved_from_title=moved_from_title,
            mine=author_id is not None and author_id == user.pk,
        )
        for (
            pk,
            text,
            created_at,
            edited_at,
            hidden_at,
            hidden_reason,
            author_id,
            name,
            erased_at,
            moved_from_title,
        ) in comments
    ]


def _detail_context(request, idea, comment_form=None) -> dict:
    """What an idea's page shows. Each part is read with only the columns it shows; the
    template keeps each part's rendering under a key made of what it shows."""
    community = idea.community
    user = request.user
    membership = get_membership(user, community)
    merged_from = None
    try:
        merged_pk = int(request.GET.get("merged_from", ""))
    except ValueError:
        merged_pk = None
    if merged_pk is not None:
        merged_from = Idea.objects.filter(merged_into=idea, pk=merged_pk).only("title").first()
    # Every revision the page keeps its parts under, in one query, before their rows.
    record_revision, people, discussion = revisions.read(
        revisions.key(Idea.RECORD_REVISION, community.pk),
        revisions.PEOPLE,
        revisions.key(Idea.DISCUSSION_REVISION, idea.pk),
    )
    comments = _comments_page(
        idea, request.GET.get("comments"), discussion=discussion, people=people
    )
    comments.object_list = _comment_lines(comments.object_list, user)
    record = _idea_record(idea, record=record_revision, people=people)
    may_join_in = access.may_join_in(user, community, membership)
    comment_form = comment_form or CommentForm()
    return {
        "community": community,
        "idea": idea,
        "counts": {"support_count": idea.support_count, "comment_count": idea.comment_count},
        "comments": comments,
        "record": record,
        "theme_names": record.theme_names,
        "decisions": record.decisions,
        "updates": record.updates,
        "projects": record.projects,
        "merged_decisions": record.merged_decisions,
        "events": record.events,
        "merged_ideas": record.merged_ideas,
        "merged_from": merged_from,
        "membership": membership,
        "show_names": access.may_see_names(user, community, membership),
        "may_join_in": may_join_in,
        "read_only": not may_change(community),
        "coordinating": may_coordinate(user, community, membership),
        "supported": idea.supported,
        "comment_form": comment_form,
        # Empty, the box is the same for everyone: rendered once, then kept.
        "comment_form_html": render_form(comment_form, name="improvement-comment")
        if may_join_in
        else "",
    }


@dataclass
class IdeaRecord:
    """What an idea's page shows of the community's record about it: its themes, the
    decisions on it and on the ideas merged into it, the updates about them, the projects
    that took it up and its history. The same for everyone, so it is kept per revision of
    the record and of people's names (`kept_as`)."""

    kept_as: str
    theme_names: list[str]
    merged_ideas: list[MergedIdea]
    decisions: list[DecisionLine]
    merged_decisions: list[DecisionLine]
    updates: list
    projects: list
    events: list[EventLine]


def _idea_record(idea: Idea, *, record: int, people: int) -> IdeaRecord:
    """The idea's record, kept under the revisions of the community's record and of people's
    names, read by the page before the rows the record is made from (its own title
    included), so a change made in between is read early, never kept under a newer
    revision."""
    version = version_of(idea.pk, record, people, get_language())

    def read() -> IdeaRecord:
        merged_ideas = [MergedIdea(*row) for row in idea.merged_ideas.values_list("pk", "title")]
        # The idea's own decisions and those made on ideas before they were merged into it,
        # in one query.
        decisions, merged_decisions = [], []
        rows = Decision.objects.filter(idea__in=[idea.pk, *dict(merged_ideas)]).values_list(
            "idea_id",
            "idea__title",
            "outcome",
            "reason",
            "decided_at",
            "decided_by_id",
            "decided_by__name",
            "decided_by__erased_at",
        )
        for idea_id, title, outcome, reason, decided_at, by, name, erased_at in rows:
            by_name = public_name(name, erased_at) if by is not None else ""
            line = DecisionLine(idea_id, title, outcome, reason, decided_at, by_name)
            (decisions if idea_id == idea.pk else merged_decisions).append(line)
        return IdeaRecord(
            kept_as=version,
            theme_names=list(idea.themes.values_list("name", flat=True)),
            merged_ideas=merged_ideas,
            decisions=decisions,
            merged_decisions=merged_decisions,
            updates=updates_for_idea(idea, [merged.pk for merged in merged_ideas]),
            projects=list(idea.projects.only("pk", "title", "status", "community_id")),
            events=[
                EventLine(*row)
                for row in idea.events.values_list(
                    "at", "kind", "status", "other_idea__title", "note"
                )
            ],
        )

    return computed("improvement-idea-record", version, read)


def _idea_to_show(slug, pk, user) -> Idea:
    """One of this community's ideas, with what its page shows of it, its community and
    whether the reader supports it, in one query; another community's is not found."""
    ideas = Idea.objects.select_related("community", "author", "session", "survey").only(
        *SHOWN_FIELDS,
        *(f"community__{field.name}" for field in Community._meta.concrete_fields),
    )
    if user.is_authenticated:
        ideas = ideas.annotate(
            supported=Exists(Support.objects.filter(idea=OuterRef("pk"), user_id=user.pk))
        )
    idea = get_object_or_404(ideas, community__slug=slug, pk=pk)
    if not user.is_authenticated:
        idea.supported = False
    return idea


def idea_detail(request, slug, pk):
    idea = _idea_to_show(slug, pk, request.user)
    if idea.status == Idea.Status.MERGED:
        return _follow_merge(idea)
    return render(request, "improvement/idea_detail.html", _detail_context(request, idea))


def _read_only(request, community):
    """An archived community's idea forms are not shown: the ideas page says why."""
    messages.info(request, archived_message())
    return redirect("improvement:ideas", slug=community.slug)


@login_required
def idea_new(request, slug):
    community = _community(slug)
    if not may_change(community):
        return _read_only(request, community)
    if not access.may_take_part(request.user, community):
        messages.info(request, _("Join the community and agree its ground rules to add ideas."))
        return redirect(community)
    form = IdeaForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.add_idea(
                community=community,
                by=request.user,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                themes=form.cleaned_data.get("themes") or (),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Thank you. Your idea is added."))
            return redirect(idea)
    return render(request, "improvement/idea_form.html", {"community": community, "form": form})


@login_required
def idea_on_behalf(request, slug):
    """A coordinator or partner types in an idea someone gave on paper or at a session."""
    community = _community(slug)
    if not access.may_enter_on_behalf(request.user, community):
        raise PermissionDenied
    if not may_change(community):
        return _read_only(request, community)
    form = OnBehalfIdeaForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            idea = services.add_idea(
                community=community,
                by=request.user,
                title=data["title"],
                description=data["description"],
                themes=data.get("themes") or (),
                on_behalf=form.on_behalf(),
                source=data["source"],
                session=data["session"] if data["source"] == Idea.Source.SESSION else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The idea is added."))
            return redirect(idea)
    return render(
        request,
        "improvement/idea_form.html",
        {"community": community, "form": form, "on_behalf": True},
    )


@require_POST
@login_required
def support(request, slug, pk):
    community = _community(slug)
    idea = _idea(community, pk)
    try:
        if request.POST.get("action") == "withdraw":
            services.withdraw_support(idea=idea, user=request.user)
            messages.success(request, _("You no longer support this idea."))
        else:
            services.support_idea(idea=idea, user=request.user)
            messages.success(request, _("You support this idea."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(idea)


@require_POST
@login_required
def comment(request, slug, pk):
    community = _community(slug)
    idea = _idea(community, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(idea=idea, user=request.user, text=form.cleaned_data["text"])
        except ArchivedError as error:
            # The page offers no comment box in an archived community: say so above it.
            messages.error(request, " ".join(error.messages))
            return redirect(idea)
        except ValidationError as error:
            form.add_error("text", error)
        else:
            messages.success(request, _("Your comment is posted."))
            return redirect(f"{idea.get_absolute_url()}#discussion")
    # Shown again with the message beside the box and the text kept.
    context = _detail_context(request, _idea_to_show(slug, pk, request.user), comment_form=form)
    return render(request, "improvement/idea_detail.html", context, status=400)


def _comment(community, pk, comment_pk) -> Comment:
    """A comment people can still read: a hidden one is not found here."""
    comment = get_object_or_404(
        Comment.objects.select_related("idea", "author"),
        idea__community=community,
        idea_id=pk,
        pk=comment_pk,
        hidden_at__isnull=True,
    )
    comment.idea.community = community
    return comment


@login_required
def comment_edit(request, slug, pk, comment_pk):
    community = _community(slug)
    comment = _comment(community, pk, comment_pk)
    if comment.author_id != request.user.pk:
        raise PermissionDenied
    form = CommentForm(request.POST or None, instance=comment)
    if not access.may_edit_comment(request.user, comment):
        messages.error(
            request,
            _(
                "Comments can be changed for %(minutes)s minutes after posting. This one is "
                "fixed now."
            )
            % {"minutes": COMMENT_EDIT_MINUTES},
        )
        return redirect(f"{comment.idea.get_absolute_url()}#comment-{comment.pk}")
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_comment(
                comment=comment, user=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error("text", error)
        else:
            messages.success(request, _("Your comment is changed."))
            return redirect(f"{comment.idea.get_absolute_url()}#comment-{comment.pk}")
    return render(
        request,
        "improvement/comment_form.html",
        {"community": community, "comment": comment, "form": form, "editing": True},
    )


@login_required
def comment_report(request, slug, pk, comment_pk):
    community = _community(slug)
    comment = _comment(community, pk, comment_pk)
    if not access.may_take_part(request.user, community):
        raise PermissionDenied
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_comment(
                comment=comment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Thank you. The coordinators will look at the comment."))
            return redirect(f"{comment.idea.get_absolute_url()}#comment-{comment.pk}")
    return render(
        request,
        "improvement/comment_form.html",
        {"community": community, "comment": comment, "form": form, "reporting": True},
    )


@login_required
def score(request, slug, pk):
    """A scorer's sheet for a round: every idea against every criterion, 1 to 5."""
    community = _community(slug)
    round_ = get_object_or_404(PrioritisationRound, community=community, pk=pk)
    round_.community = community
    scorer = Scorer.objects.filter(round=round_, user=request.user).first()
    if scorer is None:
        if may_coordinate(request.user, community):
            return redirect("improvement:manage_round", slug=community.slug, pk=round_.pk)
        raise PermissionDenied
    if round_.status == PrioritisationRound.Status.DRAFT:
        raise Http404
    ideas = list(round_.ideas.select_related("community").order_by("title"))
    criteria = list(round_.criteria.all())
    saved = {(s.idea_id, s.criterion_id): s.value for s in scorer.scores.all()}
    form = ScoreSheetForm(request.POST or None, ideas=ideas, criteria=criteria, scores=saved)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_scores(round=round_, scorer=scorer, values=form.values())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Your scores are saved. You can change them until the round closes.")
            )
            return redirect("improvement:round_score", slug=community.slug, pk=round_.pk)
    return render(
        request,
        "improvement/score.html",
        {"community": community, "round": round_, "form": form, "scorer": scorer},
    )
