"""What coordinators do with ideas: themes, status, decisions, merging, moderation, turning
input into ideas, and prioritisation rounds."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities.access import coordinator_required, may_change
from engagement.models import Answer, KeyPoint
from improvement import services
from improvement.forms import (
    ChooseIdeasForm,
    CriterionFormSet,
    DecisionForm,
    EnteredIdeaForm,
    HideForm,
    MergeForm,
    RoundForm,
    ScorerForm,
    StatusForm,
    ThemeForm,
)
from improvement.models import Comment, CommentReport, Idea, PrioritisationRound, Theme
from improvement.prioritisation import round_results
from members import revisions
from members.choosing import finding, typed, words_to_find
from members.computed import computed, version_of


def _idea(community, pk) -> Idea:
    idea = get_object_or_404(Idea, community=community, pk=pk)
    idea.community = community
    return idea


def _idea_page(request, community, idea, status=None, **forms):
    context = {
        "community": community,
        "idea": idea,
        "status_form": forms.get("status_form") or StatusForm(idea=idea, prefix="status"),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "merge_form": forms.get("merge_form")
        or MergeForm(idea=idea, prefix="merge", find=words_to_find(request)),
        "decisions": idea.decisions.select_related("decided_by"),
        "read_only": not may_change(community),
    }
    if status is None:
        status = 400 if forms else 200  # a form given is a form with errors
    return render(request, "improvement/manage/idea.html", context, status=status)


@coordinator_required
def idea(request, community, pk):
    idea = _idea(community, pk)
    if idea.status == Idea.Status.MERGED:
        messages.info(request, _("This idea was merged; here is the idea it joined."))
        return redirect("improvement:manage_idea", slug=community.slug, pk=idea.merged_into_id)
    return _idea_page(request, community, idea)


def _done(request, idea, message):
    messages.success(request, message)
    return redirect(idea)


@require_POST
@coordinator_required
def idea_status(request, community, pk):
    idea = _idea(community, pk)
    form = StatusForm(request.POST, idea=idea, prefix="status")
    if form.is_valid():
        try:
            services.change_status(
                idea=idea,
                status=form.cleaned_data["status"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error("status", error)
        else:
            return _done(request, idea, _("Status changed."))
    return _idea_page(request, community, idea, status_form=form)


@require_POST
@coordinator_required
def idea_decide(request, community, pk):
    idea = _idea(community, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decide(idea=idea, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Decision recorded and shown on the idea's page. Now tell the people who "
                    "gave this input: check this update and publish it."
                ),
            )
            new_update = reverse("improvement:manage_update_new", args=[community.slug])
            return redirect(f"{new_update}?idea={idea.pk}")
    return _idea_page(request, community, idea, decision_form=form)


@require_POST
@coordinator_required
def idea_merge(request, community, pk):
    idea = _idea(community, pk)
    form = MergeForm(request.POST, idea=idea, prefix="merge", find=words_to_find(request))
    if finding(request):  # other ideas listed: shown again unmerged, as typed
        listed = MergeForm(
            idea=idea, prefix="merge", initial=typed(form), find=words_to_find(request)
        )
        return _idea_page(request, community, idea, merge_form=listed, status=200)
    if form.is_valid():
        try:
            target = services.merge_ideas(
                source=idea,
                target=form.cleaned_data["target"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error("target", error)
        else:
            return _done(
                request,
                target,
                _(
                    "Merged. Everyone who supported or commented on “%(title)s” is now part of "
                    "this idea."
                )
                % {"title": idea.title},
            )
    return _idea_page(request, community, idea, merge_form=form)


@coordinator_required
def comment_hide(request, community, pk):
    comment = get_object_or_404(
        Comment.objects.select_related("idea", "author"), idea__community=community, pk=pk
    )
    form = HideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.hide_comment(comment=comment, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("The comment is hidden. It stays in the record."))
        return redirect("improvement:manage_reports", slug=community.slug)
    return render(
        request,
        "improvement/manage/comment_hide.html",
        {
            "community": community,
            "comment": comment,
            "form": form,
            "read_only": not may_change(community),
        },
    )


@require_POST
@coordinator_required
def comment_keep(request, community, pk):
    comment = get_object_or_404(Comment, idea__community=community, pk=pk)
    services.dismiss_reports(comment=comment, by=request.user)
    messages.success(request, _("The comment stays up; its reports are settled."))
    return redirect("improvement:manage_reports", slug=community.slug)


REPORTS_PER_PAGE = 20


@never_cache
@coordinator_required
def reports(request, community):
    """Comments members reported, oldest first, with what they said."""
    # Comments with a report not yet settled. (A filter on `reports__resolved_at` being null
    # would also match every comment with no report at all, through the outer join.)
    unsettled = CommentReport.objects.filter(resolved_at__isnull=True)
    waiting = (
        Comment.objects.filter(idea__community=community)
        .filter(Exists(unsettled.filter(comment=OuterRef("pk"))))
        .select_related("idea__community", "author")
        .prefetch_related(
            Prefetch("reports", queryset=unsettled.select_related("reporter"), to_attr="unsettled")
        )
        .order_by("created_at")
    )
    page = Paginator(waiting, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "improvement/manage/reports.html",
        {
            "community": community,
            "page": page,
            "comments": page.object_list,
            "settled": CommentReport.objects.filter(
                comment__idea__community=community, resolved_at__isnull=False
            ).count(),
            "read_only": not may_change(community),
        },
    )


@coordinator_required
def themes(request, community, pk=None):
    theme = get_object_or_404(Theme, community=community, pk=pk) if pk else None
    form = ThemeForm(request.POST or None, instance=theme, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_theme(community=community, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Theme saved."))
            return redirect("improvement:manage_themes", slug=community.slug)
    return render(
        request,
        "improvement/manage/themes.html",
        {
            "community": community,
            "form": form,
            "theme": theme,
            "themes": _themes_with_counts(community),
            "read_only": not may_change(community),
        },
    )


def _themes_with_counts(community) -> list[Theme]:
    """The community's themes, each with its number of ideas, counted once per revision of
    its record (which follows ideas, themes and the links between them)."""
    (revision,) = revisions.read(revisions.key(Idea.RECORD_REVISION, community.pk))
    return computed(
        "improvement-themes-counted",
        version_of(community.pk, revision),
        lambda: list(community.themes.annotate(n=Count("ideas"))),
    )


@require_POST
@coordinator_required
def theme_delete(request, community, pk):
    theme = get_object_or_404(Theme, community=community, pk=pk)
    theme.community = community
    try:
        services.remove_theme(theme=theme)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Theme removed. The ideas it was on are kept."))
    return redirect("improvement:manage_themes", slug=community.slug)


def _from_input(request, community, *, text, source_kwargs, back, heading, origin):
    """A prefilled idea from something heard: the coordinator checks it and adds it."""
    initial = {"title": text.split("\n")[0][:150], "description": text}
    form = EnteredIdeaForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.add_idea(
                community=community,
                by=request.user,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                themes=form.cleaned_data.get("themes") or (),
                **source_kwargs,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The idea is added; the people who gave this input are its contributors."),
            )
            return redirect(idea)
    return render(
        request,
        "improvement/manage/from_input.html",
        {
            "community": community,
            "form": form,
            "back": back,
            "heading": heading,
            "origin": origin,
            "text": text,
            "read_only": not may_change(community),
        },
    )


@coordinator_required
def from_key_point(request, community, pk):
    point = get_object_or_404(
        KeyPoint.objects.select_related("session"), session__community=community, pk=pk
    )
    return _from_input(
        request,
        community,
        text=point.text,
        source_kwargs={"key_point": point},
        back=point.session,
        heading=_("Make an idea from a key point"),
        origin=_("Heard at “%(session)s”. Everyone recorded as coming to it becomes a contributor.")
        % {"session": point.session.title},
    )


@coordinator_required
def from_answer(request, community, pk):
    answer = get_object_or_404(
        Answer.objects.select_related("response__survey", "question"),
        response__survey__community=community,
        pk=pk,
    )
    if not answer.text.strip():
        messages.error(request, _("Only written answers can be made into ideas."))
        return redirect(
            "engagement:manage_survey_results", slug=community.slug, pk=answer.response.survey_id
        )
    return _from_input(
        request,
        community,
        text=answer.text,
        source_kwargs={"survey_answer": answer},
        back=answer.response.survey,
        heading=_("Make an idea from a survey answer"),
        origin=_(
            "An answer to “%(question)s” in “%(survey)s”. The person who gave it becomes a "
            "contributor if they answered with their name."
        )
        % {"question": answer.question.text, "survey": answer.response.survey.title},
    )


@coordinator_required
def rounds(request, community):
    form = RoundForm(request.POST or None, community=community, find=words_to_find(request))
    if finding(request):  # other ideas listed: shown again unsaved, as typed
        form = RoundForm(community=community, initial=typed(form), find=words_to_find(request))
    elif request.method == "POST" and form.is_valid():
        round_ = services.create_round(
            community=community,
            by=request.user,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            ideas=form.cleaned_data["ideas"],
        )
        messages.success(request, _("Round created. Check its criteria and invite scorers."))
        return redirect("improvement:manage_round", slug=community.slug, pk=round_.pk)
    return render(
        request,
        "improvement/manage/rounds.html",
        {
            "community": community,
            "form": form,
            "rounds": community.prioritisation_rounds.annotate(
                n_ideas=Count("ideas", distinct=True), n_scorers=Count("scorers", distinct=True)
            ),
            "read_only": not may_change(community),
        },
    )


def _round(community, pk) -> PrioritisationRound:
    round_ = get_object_or_404(PrioritisationRound, community=community, pk=pk)
    round_.community = community
    return round_


def _save_round_part(request, round_, round_form, criteria, scorer_form) -> str | None:
    """Save whichever part of the round set-up was sent; the message on success, or None
    (the form then shows its errors)."""
    try:
        if "save_round" in request.POST and round_form.is_valid():
            services.save_round(round=round_, form=round_form)
            return _("Round saved.")
        if "save_criteria" in request.POST and criteria.is_valid():
            services.save_criteria(round=round_, formset=criteria)
            return _("Criteria saved.")
        if "add_scorer" in request.POST and scorer_form.is_valid():
            services.invite_scorers(round=round_, people=scorer_form.people(), by=request.user)
            return _("Scorer added.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return None


@coordinator_required
def round_detail(request, community, pk):
    """Set up a round: its ideas, criteria and weights, and who scores."""
    round_ = _round(community, pk)
    sent = request.POST if request.method == "POST" else {}
    round_form = RoundForm(
        request.POST if "save_round" in sent or finding(request) else None,
        instance=round_,
        community=community,
        find=words_to_find(request),
    )
    if finding(request):  # other ideas listed: shown again unsaved, as typed
        round_form = RoundForm(
            instance=round_,
            community=community,
            initial=typed(round_form),
            find=words_to_find(request),
        )
    criteria = CriterionFormSet(
        request.POST if "save_criteria" in sent else None,
        queryset=round_.criteria.all(),
        prefix="criteria",
    )
    scorer_form = ScorerForm(request.POST if "add_scorer" in sent else None, community=community)
    if request.method == "POST" and not finding(request):
        done = _save_round_part(request, round_, round_form, criteria, scorer_form)
        if done:
            messages.success(request, done)
            return redirect("improvement:manage_round", slug=community.slug, pk=pk)
    return render(
        request,
        "improvement/manage/round.html",
        {
            "community": community,
            "round": round_,
            "round_form": round_form,
            "criteria": criteria,
            "scorer_form": scorer_form,
            "scorers": round_.scorers.select_related("user").annotate(n_scores=Count("scores")),
            "ideas": round_.ideas.select_related("community").order_by("title"),
            "closed": round_.status == PrioritisationRound.Status.CLOSED,
            "draft": round_.status == PrioritisationRound.Status.DRAFT,
            "read_only": not may_change(community),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@coordinator_required
def round_scorer_remove(request, community, pk, scorer):
    round_ = _round(community, pk)
    try:
        services.remove_scorer(round=round_, scorer_id=scorer)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Scorer removed, with their scores."))
    return redirect("improvement:manage_round", slug=community.slug, pk=pk)


@require_POST
@coordinator_required
def round_status(request, community, pk):
    round_ = _round(community, pk)
    try:
        if request.POST.get("action") == "open":
            services.open_round(round=round_)
            messages.success(request, _("The round is open. Scorers have been told."))
        else:
            services.close_round(round=round_)
            messages.success(request, _("The round is closed. Here are its results."))
            return redirect("improvement:manage_round_results", slug=community.slug, pk=pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("improvement:manage_round", slug=community.slug, pk=pk)


@coordinator_required
def round_results_view(request, community, pk):
    round_ = _round(community, pk)
    form = ChooseIdeasForm(request.POST or None, round=round_)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.mark_prioritised(
                round=round_, ideas=form.cleaned_data["ideas"], by=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)s idea marked as prioritised.", "%(n)s ideas marked as prioritised.", moved
                )
                % {"n": moved},
            )
            return redirect("improvement:manage_round_results", slug=community.slug, pk=pk)
    results = round_results(round_)
    return render(
        request,
        "improvement/manage/round_results.html",
        {
            "community": community,
            "round": round_,
            "results": results,
            "criteria": round_.criteria.all(),
            "form": form,
            "scorer_counts": dict(
                round_.scorers.values_list("group").annotate(n=Count("pk")).order_by()
            ),
            "disagreements": [r for r in results if r.disagree],
            "read_only": not may_change(community),
        },
        status=400 if request.method == "POST" else 200,
    )
