"""Closing the loop: the public board of updates, one update, what happened to my input, and
coordinators writing and publishing updates."""

from collections import defaultdict
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities.access import coordinator_required, may_change, may_coordinate
from communities.models import Community
from engagement.models import Session, Survey
from improvement import inputs, services
from improvement.forms import BoardFilterForm, UpdateForm
from improvement.loop import with_community
from improvement.models import Decision, Idea, Update
from members.aggregates import count
from members.choosing import finding, typed, words_to_find
from members.rendering import render_form

UPDATES_PER_PAGE = 20
INPUT_PER_PAGE = 25


def board(request, slug):
    """The "you said, we did" board: published updates, newest first."""
    community = get_object_or_404(Community, slug=slug)
    form = BoardFilterForm(request.GET or None, community=community)
    updates = Update.objects.published().filter(community=community)
    if form.is_valid() and form.cleaned_data["theme"]:
        updates = updates.filter(ideas__themes=form.cleaned_data["theme"]).distinct()
    updates = updates.only("pk", "community_id", "title", "what_we_did", "published_at").order_by(
        "-published_at", "-pk"
    )
    page = Paginator(updates, UPDATES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = with_community(page.object_list, community)
    # Each update's ideas as (pk, title), by title: what its card shows and is kept under.
    about = defaultdict(list)
    links = Update.ideas.through.objects.filter(update__in=[u.pk for u in page.object_list])
    for update, *idea in links.order_by("idea__title", "idea_id").values_list(
        "update_id", "idea_id", "idea__title"
    ):
        about[update].append(tuple(idea))
    day = inputs.Dates.now()  # month names translated once, not once per update
    for update in page.object_list:
        update.day = day(update.published_at)
        update.about = about[update.pk]
    # Everything the list of updates shows: it is kept rendered under this.
    shown = [(u.pk, u.title, u.day, u.what_we_did, u.about) for u in page.object_list]
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    return render(
        request,
        "improvement/board.html",
        {
            "community": community,
            "filter_form": render_form(form, name="improvement-board-filter"),
            "page": page,
            "shown": shown,
            "query": query,
        },
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


@never_cache
@login_required
def my_input(request):
    """Every piece of input I gave, newest first, with its status now and every update that
    answered it. Ordered and paged in SQL; only the page shown is filled in, in a fixed
    number of queries however much I gave."""
    page = Paginator(inputs.Inputs(request.user), INPUT_PER_PAGE).get_page(request.GET.get("page"))
    items = inputs.fill(request.user, page.object_list)
    return render(request, "improvement/my_input.html", {"items": items, "page": page})


# --- Coordinators ----------------------------------------------------------------------------


@coordinator_required
def manage_updates(request, community):
    # Each update's links counted in subqueries of their own: only the page's 20 updates
    # are counted, not every update joined to every link before the page is taken.
    def links(model):
        return count(model.objects.filter(update=OuterRef("pk")))

    updates = community.updates.annotate(
        n_ideas=links(Update.ideas.through),
        n_sessions=links(Update.sessions.through),
        n_surveys=links(Update.surveys.through),
        telling=services.still_telling(),
    ).order_by("-status", "-published_at", "-created_at")
    page = Paginator(updates, UPDATES_PER_PAGE).get_page(request.GET.get("page"))
    with_community(page.object_list, community)
    return render(
        request,
        "improvement/manage/updates.html",
        {"community": community, "page": page, "read_only": not may_change(community)},
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

    def made(data=None, initial=None):
        return UpdateForm(
            data,
            instance=update,
            community=community,
            initial=initial or (None if update else _initial(request, community)),
            find=words_to_find(request),
        )

    form = made(request.POST or None)
    if finding(request):  # other ideas listed: shown again unsaved, as typed
        form = made(initial=typed(form))
    elif request.method == "POST" and form.is_valid():
        try:
            saved = services.save_update(form=form, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Check who will be told, then publish it."))
            return redirect("improvement:manage_update", slug=community.slug, pk=saved.pk)
    read_only = not may_change(community)
    return render(
        request,
        "improvement/manage/update_form.html",
        {
            "community": community,
            "form": form,
            "update": update,
            "audience": services.audience_summary(update) if update and not read_only else None,
            "read_only": read_only,
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
        return redirect("improvement:manage_update", slug=community.slug, pk=pk)
    if not result.published:
        messages.info(request, _("This update was already published. Nobody was told twice."))
    else:
        messages.success(
            request,
            _(
                "Published. Everyone whose input it answers is being told, each once, the way "
                "they chose. You can see how far it has got below."
            ),
        )
    return redirect(update.get_absolute_url())


@coordinator_required
def publish_progress(request, community, pk):
    """How far telling people has got, as a fragment the update's page asks for every few
    seconds while it goes on (and stops asking, with htmx's 286, once it is done). Once it is
    done the fragment also carries the page's one announced sentence, swapped in out of
    band, so a screen reader hears the figures change once, not every few seconds."""
    update = get_object_or_404(Update.objects.published(), community=community, pk=pk)
    update.community = community
    progress = services.publishing_progress(update)
    response = render(
        request,
        "improvement/includes/publish_progress_fragment.html",
        {"community": community, "update": update, "progress": progress},
    )
    if progress is None or progress.finished:
        response.status_code = 286
    return response


def updates_for_idea(idea: Idea, merged_pks: Iterable[int]) -> list[Update]:
    """Published updates about an idea or the ideas merged into it (`merged_pks`), newest
    first."""
    return inputs.updates_about([idea.pk, *merged_pks])
