import io
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communities.access import (
    ArchivedError,
    archived_message,
    coordinator_required,
    may_change,
    may_coordinate,
)
from engagement import access, services
from engagement import results as results_module
from engagement.manage_views import session_runner_required
from engagement.models import Question, Response, Survey
from engagement.survey_forms import PaperDetailsForm, QuestionForm, SurveyAnswerForm, SurveyForm
from members.exports import csv_download
from members.network import client_address
from members.rendering import render_form

# Public answers from one address: enough for a family sharing a phone, not for a flood.
PUBLIC_ANSWERS_PER_HOUR = 20


def _survey(request, slug, pk) -> Survey:
    survey = get_object_or_404(
        Survey.objects.select_related("community"), community__slug=slug, pk=pk
    )
    if not survey.published and not may_coordinate(request.user, survey.community):
        raise Http404
    return survey


def _too_many(request, survey) -> bool:
    key = f"survey-answers:{survey.pk}:{client_address(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > PUBLIC_ANSWERS_PER_HOUR


def survey(request, slug, pk):
    """Answer a survey: on a phone, by keyboard and by screen reader."""
    survey = _survey(request, slug, pk)
    questions = survey.questions.prefetch_related("choices")
    allowed = access.may_answer(request.user, survey)
    read_only = not may_change(survey.community)
    previous = None
    if request.user.is_authenticated:
        previous = Response.objects.filter(survey=survey, user=request.user).first()
    initial = {}
    if previous:
        for answer in previous.answers.select_related("question").prefetch_related("choices"):
            key = f"q{answer.question_id}"
            chosen = [str(c.pk) for c in answer.choices.all()]
            initial[key] = (
                chosen
                if answer.question.kind == "multiple"
                else (
                    chosen[0] if chosen else (str(answer.number) if answer.number else answer.text)
                )
            )
    data = request.POST if request.method == "POST" else None
    form = SurveyAnswerForm(data, questions=questions, initial=initial)
    if request.method == "POST" and read_only:
        messages.error(request, archived_message())
    elif request.method == "POST" and allowed and survey.is_open() and form.is_valid():
        if not request.user.is_authenticated and _too_many(request, survey):
            messages.error(
                request, _("Too many answers from here just now. Please try again later.")
            )
        else:
            try:
                services.save_response(
                    survey=survey,
                    user=request.user,
                    answers=list(form.answers()),
                    anonymous=request.POST.get("anonymous") == "on",
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Thank you. Your answers are saved."))
                return redirect(survey)
    return render(
        request,
        "engagement/survey.html",
        {
            "community": survey.community,
            "survey": survey,
            "form": form,
            "allowed": allowed,
            "read_only": read_only,
            "is_open": survey.is_open(),
            "not_yet": survey.published and survey.opens_at > timezone.now(),
            # A coordinator looking at an unpublished survey sees the form as people will.
            "preview": not survey.published,
            "previous": previous,
        },
    )


@coordinator_required
def results(request, community, pk):
    # The survey comes with its results' revision, read before anything they are made from.
    survey = get_object_or_404(Survey.objects.with_results_revision(), community=community, pk=pk)
    search = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    page = _page_number(request.GET.get("page"))
    responses, summary = results_module.summarise(survey)
    questions = [item["question"] for item in summary]
    written = results_module.texts(survey, questions, search=search, page=page)
    for item in summary:
        item["written"], item["more"] = written.get(item["question"].pk, ([], False))
    query = {"q": search} if search else {}
    return render(
        request,
        "engagement/survey_results.html",
        {
            "community": community,
            "survey": survey,
            "summary": summary,
            "search": search,
            "responses": responses,
            "page": page,
            "older": urlencode({**query, "page": page + 1}),
            "newer": urlencode({**query, "page": page - 1}) if page > 1 else "",
            "more": any(item["more"] for item in summary),
        },
    )


def _page_number(value) -> int:
    try:
        return min(max(int(value), 1), 10_000)
    except (TypeError, ValueError):
        return 1


@coordinator_required
def results_csv(request, community, pk):
    """Every response as a row, every question as a column, sent as it is written. Cells a
    spreadsheet would run as formulas are escaped."""
    survey = get_object_or_404(Survey, community=community, pk=pk)
    questions = list(survey.questions.all())
    return csv_download(
        filename=f"survey-{survey.pk}.csv",
        header=results_module.csv_header(questions),
        rows=results_module.csv_rows(survey, questions),
    )


@coordinator_required
def manage_surveys(request, community, pk=None):
    """The list of surveys, and the form for a new one or a survey's details."""
    survey = get_object_or_404(Survey, community=community, pk=pk) if pk else None
    form = SurveyForm(request.POST or None, instance=survey, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_survey(community=community, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Survey saved. Add or change its questions below."))
            return redirect("engagement:manage_survey", slug=community.slug, pk=saved.pk)
    questions = survey.questions.prefetch_related("choices") if survey else []
    return render(
        request,
        "engagement/manage_surveys.html",
        {
            "community": community,
            "survey": survey,
            "form": form,
            # The same for everyone who sees the same survey: rendered once, then kept.
            "form_html": render_form(form, name="engagement-survey"),
            "questions": questions,
            "question_form": QuestionForm(survey=survey) if survey else None,
            "surveys": community.surveys.order_by("-opens_at"),
            "read_only": not may_change(community),
        },
    )


@coordinator_required
def manage_question(request, community, pk, question=None):
    survey = get_object_or_404(Survey, community=community, pk=pk)
    instance = get_object_or_404(Question, survey=survey, pk=question) if question else None
    form = QuestionForm(request.POST or None, instance=instance, survey=survey)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_question(
                question=form.save(commit=False), choices=form.cleaned_data["choices"]
            )
        except ArchivedError as error:
            form.add_error(None, error)
        except ValidationError as error:
            form.add_error("choices_text", error)
        else:
            messages.success(request, _("Question saved."))
            return redirect("engagement:manage_survey", slug=community.slug, pk=survey.pk)
    return render(
        request,
        "engagement/manage_question.html",
        {
            "community": community,
            "survey": survey,
            "form": form,
            "question": instance,
            "read_only": not may_change(community),
        },
    )


@require_POST
@coordinator_required
def delete_question(request, community, pk, question):
    target = get_object_or_404(
        Question.objects.select_related("survey__community"),
        survey__community=community,
        survey_id=pk,
        pk=question,
    )
    try:
        services.remove_question(question=target)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Question removed."))
    return redirect("engagement:manage_survey", slug=community.slug, pk=pk)


@session_runner_required
def paper(request, community, pk):
    """Enter answers collected on paper, on someone's behalf: coordinators for any of the
    community's surveys, partners for published surveys about sessions they run."""
    surveys = Survey.objects.filter(community=community)
    if not request.coordinating:
        run = access.sessions_run_by(request.user, community, request.membership)
        surveys = surveys.filter(published=True, session__in=run.values("pk"))
    survey = get_object_or_404(surveys, pk=pk)
    questions = survey.questions.prefetch_related("choices")
    details = PaperDetailsForm(request.POST or None, prefix="paper")
    form = SurveyAnswerForm(request.POST or None, questions=questions)
    if request.method == "POST" and details.is_valid() and form.is_valid():
        paper = dict(details.cleaned_data)
        if not cache.add(f"paper-sheet:{paper.pop('sheet')}", True, timeout=24 * 3600):
            messages.info(request, _("Those answers were already saved."))
        else:
            try:
                services.save_response(
                    survey=survey, user=request.user, answers=list(form.answers()), paper=paper
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Answers from paper saved. You can enter another set."))
        return redirect("engagement:manage_survey_paper", slug=community.slug, pk=survey.pk)
    return render(
        request,
        "engagement/survey_paper.html",
        {
            "community": community,
            "survey": survey,
            "form": form,
            "details": details,
            "read_only": not may_change(community),
        },
    )


def poster(request, slug, pk):
    """A printable A4 poster with a QR code for a survey's public address."""
    survey = _survey(request, slug, pk)
    return render(
        request,
        "engagement/survey_poster.html",
        {
            "community": survey.community,
            "survey": survey,
            "address": settings.SITE_URL + survey.get_absolute_url(),
        },
    )


def poster_qr(request, slug, pk):
    survey = _survey(request, slug, pk)
    out = io.BytesIO()
    segno.make(settings.SITE_URL + survey.get_absolute_url(), error="m").save(
        out, kind="svg", scale=10, border=2
    )
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")
