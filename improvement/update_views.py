"""Closing the loop: the public board of updates, one update, what happened to my input, and
coordinators writing and publishing updates."""

from collections import defaultdict
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities.access import coordinator_required, may_coordinate
from communities.models import Community
from engagement.models import Participation, Registration, Session, Survey
from improvement import services
from improvement.forms import BoardFilterForm, UpdateForm
from improvement.loop import with_community
from improvement.models import Comment, Decision, Idea, Support, Update

UPDATES_PER_PAGE = 20
INPUT_PER_PAGE = 25
# Survey participation keeps no date (it must not link answers to the person): such items
# sort last.
_NEVER = datetime.min.replace(tzinfo=UTC)


def board(request, slug):
    """The "you said, we did" board: published updates, newest first."""
    community = get_object_or_404(Community, slug=slug)
    form = BoardFilterForm(request.GET or None, community=community)
    updates = Update.objects.published().filter(community=community)
    if form.is_valid() and form.cleaned_data["theme"]:
        updates = updates.filter(ideas__themes=form.cleaned_data["theme"]).distinct()
    updates = updates.prefetch_related(
        Prefetch("ideas", queryset=Idea.objects.only("pk", "title").order_by("title"))
    ).order_by("-published_at", "-pk")
    page = Paginator(updates, UPDATES_PER_PAGE).get_page(request.GET.get("page"))
    with_community(page.object_list, community)
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    return render(
        request,
        "improvement/board.html",
        {"community": community, "form": form, "page": page, "query": query},
    )


def update_detail(request, slug, pk):
    community = get_object_or_404(Community, slug=slug)
    update = get_object_or_404(Update, community=community, pk=pk)
    update.community = community
    coordinating = may_coordinate(request.user, community)
    if not update.is_published and not coordinating:
        raise Http404
    return render(
        request,
        "improvement/update_detail.html",
        {
            "community": community,
            "update": update,
            "progress": services.publishing_progress(update) if coordinating else None,
            "ideas": update.ideas.order_by("title"),
            "sessions": update.sessions.order_by("starts_at"),
            "surveys": update.surveys.order_by("opens_at"),
        },
    )


# --- What happened to my input -------------------------------------------------------------

KIND_LABELS = {
    "idea": gettext_lazy("Your idea"),
    "support": gettext_lazy("You supported"),
    "comment": gettext_lazy("You discussed"),
    "survey": gettext_lazy("You answered"),
    "session": gettext_lazy("You came to"),
}


def _updates_by(through, field: str, ids) -> dict[int, list[Update]]:
    found = defaultdict(list)
    rows = (
        through.objects.filter(**{f"{field}__in": ids}, update__status=Update.Status.PUBLISHED)
        .select_related("update__community")
        .order_by("-update__published_at")
    )
    for row in rows:
        found[getattr(row, f"{field}_id")].append(row.update)
    return found


def _idea_updates(ideas: list[Idea]) -> dict[int, list[Update]]:
    """Updates touching each idea: on it, on the idea it was merged into, or on ideas
    merged into that one. One list per idea, newest first, each update once."""
    key_of = {idea.pk: idea.merged_into_id or idea.pk for idea in ideas}
    group = dict(
        Idea.objects.filter(
            Q(pk__in=set(key_of.values())) | Q(merged_into__in=set(key_of.values()))
        ).values_list("pk", "merged_into_id")
    )
    by_idea = _updates_by(Update.ideas.through, "idea", list(group))
    by_key = defaultdict(dict)
    for pk, merged_into in group.items():
        for update in by_idea.get(pk, []):
            by_key[merged_into or pk][update.pk] = update
    return {
        pk: sorted(by_key[key].values(), key=lambda u: u.published_at, reverse=True)
        for pk, key in key_of.items()
    }


def _item(kind, title, link, when, status, updates, community):
    return {
        "kind": kind,
        "label": KIND_LABELS[kind],
        "title": title,
        "link": link,
        "when": when,
        "status": status,
        "updates": updates,
        "community": community,
    }


@never_cache
@login_required
def my_input(request):
    """Every piece of input I gave, newest first, with its status now and every update that
    answered it. A fixed number of queries however much I gave."""
    user = request.user
    related = ("community", "merged_into__community")
    authored = list(Idea.objects.filter(author=user).select_related(*related))
    supports = list(
        Support.objects.filter(user=user).select_related(*[f"idea__{r}" for r in related])
    )
    discussed = {
        row["idea"]: row
        for row in Comment.objects.filter(author=user)
        .values("idea")
        .annotate(n=Count("pk"), last=Max("created_at"))
        .order_by()
    }
    commented = list(Idea.objects.filter(pk__in=discussed).select_related(*related))
    answered = list(Participation.objects.filter(user=user).select_related("survey__community"))
    came = list(
        Registration.objects.filter(user=user, attended=True).select_related("session__community")
    )
    # Ideas made from my named survey answers, or heard at sessions I came to: their
    # updates answer my survey answer or my coming, as their emails said.
    made_from = list(
        Idea.objects.filter(
            Q(survey_response__user=user) | Q(session__in=[r.session_id for r in came])
        ).only("pk", "survey_id", "session_id", "survey_response_id", "merged_into_id")
    )
    ideas = authored + [s.idea for s in supports] + commented + made_from
    idea_updates = _idea_updates(ideas)
    survey_updates = _updates_by(Update.surveys.through, "survey", [p.survey_id for p in answered])
    session_updates = _updates_by(Update.sessions.through, "session", [r.session_id for r in came])
    mine_from_answers = {i.pk for i in made_from if i.survey_response_id}
    for idea in made_from:
        if idea.pk in mine_from_answers and idea.survey_id:
            survey_updates.setdefault(idea.survey_id, []).extend(idea_updates[idea.pk])
        if idea.session_id:
            session_updates.setdefault(idea.session_id, []).extend(idea_updates[idea.pk])
    for found in (survey_updates, session_updates):
        for key, updates in found.items():
            unique = {u.pk: u for u in updates}
            found[key] = sorted(unique.values(), key=lambda u: u.published_at, reverse=True)

    def shown(idea):
        return idea.merged_into or idea

    items = [
        _item("idea", i.title, shown(i).get_absolute_url(), i.created_at, _idea_status(i),
              idea_updates[i.pk], i.community)
        for i in authored
    ] + [
        _item("support", s.idea.title, shown(s.idea).get_absolute_url(), s.created_at,
              _idea_status(s.idea), idea_updates[s.idea_id], s.idea.community)
        for s in supports
    ] + [
        _item("comment", i.title, shown(i).get_absolute_url(), discussed[i.pk]["last"],
              _idea_status(i), idea_updates[i.pk], i.community)
        for i in commented
    ] + [
        _item("survey", p.survey.title, p.survey.get_absolute_url(),
              p.survey.closes_at or p.survey.opens_at,
              _("Open") if p.survey.is_open() else _("Closed"),
              survey_updates.get(p.survey_id, []), p.survey.community)
        for p in answered
    ] + [
        _item("session", r.session.title, r.session.get_absolute_url(), r.session.starts_at,
              _("Held"), session_updates.get(r.session_id, []), r.session.community)
        for r in came
    ]  # fmt: skip
    items.sort(key=lambda item: item["when"] or _NEVER, reverse=True)
    page = Paginator(items, INPUT_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "improvement/my_input.html", {"items": page.object_list, "page": page})


def _idea_status(idea: Idea) -> str:
    if idea.merged_into_id:
        return _("Merged into “%(title)s”: %(status)s") % {
            "title": idea.merged_into.title,
            "status": idea.merged_into.get_status_display(),
        }
    return idea.get_status_display()


# --- Coordinators ----------------------------------------------------------------------------


@coordinator_required
def manage_updates(request, community):
    updates = community.updates.annotate(
        n_ideas=Count("ideas", distinct=True),
        n_sessions=Count("sessions", distinct=True),
        n_surveys=Count("surveys", distinct=True),
        telling=services.still_telling(),
    ).order_by("-status", "-published_at", "-created_at")
    page = Paginator(updates, UPDATES_PER_PAGE).get_page(request.GET.get("page"))
    with_community(page.object_list, community)
    return render(
        request, "improvement/manage/updates.html", {"community": community, "page": page}
    )


def _initial(request, community) -> dict:
    """A new update about the input the coordinator came from: an idea (with its latest
    decision as a starting point), a session or a survey."""
    initial = {}
    for name, model in (("idea", Idea), ("session", Session), ("survey", Survey)):
        value = request.GET.get(name, "")
        if not value.isascii() or not value.isdigit():
            continue
        found = model.objects.filter(community=community, pk=int(value)).first()
        if found is None:
            continue
        initial[f"{name}s"] = [found.pk]
        initial["title"] = found.title
        if name == "idea":
            decision = Decision.objects.filter(idea=found).first()
            initial["what_we_heard"] = found.description
            if decision is not None:
                initial["what_we_did"] = f"{decision.get_outcome_display()}. {decision.reason}"
    return initial


@coordinator_required
def edit_update(request, community, pk=None):
    update = get_object_or_404(Update, community=community, pk=pk) if pk else None
    if update is not None and update.is_published:
        messages.info(request, _("This update is published, so it stays as it was sent."))
        return redirect(update.get_absolute_url())
    form = UpdateForm(
        request.POST or None,
        instance=update,
        community=community,
        initial=None if update else _initial(request, community),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_update(form=form, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Check who will be told, then publish it."))
            return redirect("updates_manage:edit", slug=community.slug, pk=saved.pk)
    return render(
        request,
        "improvement/manage/update_form.html",
        {
            "community": community,
            "form": form,
            "update": update,
            "audience": services.audience_summary(update) if update else None,
        },
    )


@require_POST
@coordinator_required
def publish(request, community, pk):
    update = get_object_or_404(Update, community=community, pk=pk)
    update.community = community
    try:
        result = services.publish_update(update=update, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("updates_manage:edit", slug=community.slug, pk=pk)
    if not result.published:
        messages.info(request, _("This update was already published. Nobody was told twice."))
    else:
        messages.success(
            request,
            _("Published. Everyone whose input it answers is being told, each once, the way "
              "they chose. You can see how far it has got below."),
        )  # fmt: skip
    return redirect(update.get_absolute_url())


@coordinator_required
def publish_progress(request, community, pk):
    """How far telling people has got, as a fragment the update's page asks for every few
    seconds while it goes on (and stops asking, with htmx's 286, once it is done)."""
    update = get_object_or_404(Update.objects.published(), community=community, pk=pk)
    update.community = community
    progress = services.publishing_progress(update)
    response = render(
        request,
        "improvement/includes/publish_progress.html",
        {"community": community, "update": update, "progress": progress},
    )
    if progress is None or progress.finished:
        response.status_code = 286
    return response


def updates_for_idea(idea: Idea) -> list[Update]:
    return with_community(
        list(Update.objects.about_ideas([idea.pk]).order_by("-published_at")), idea.community
    )
