"""Survey results: counts and percentages per choice question, the words people wrote, and
a CSV of every response. A fixed number of queries however many answers there are."""

from collections import Counter, defaultdict
from collections.abc import Iterator

from django.db.models import Count, OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from engagement.models import RATINGS_LABELS, Answer, Choice, Question, Response, Survey
from members.computed import computed, version_of
from members.exports import GroupedIds, split_ids

CHUNK_SIZE = 2000
TEXTS_PER_PAGE = 25
CHOSEN = (Question.Kind.SINGLE, Question.Kind.MULTIPLE)

CHART_WIDTH = 300  # the longest bar, in the SVG's own units


def _rows(counts: list[tuple[str, int]], answered: int) -> list[dict]:
    top = max((n for _label, n in counts), default=0) or 1
    return [
        {
            "label": str(label),
            "count": n,
            "percent": round(100 * n / answered) if answered else 0,
            "width": round(CHART_WIDTH * n / top),
            "y": 28 * i,
        }
        for i, (label, n) in enumerate(counts)
    ]


def _counts(survey: Survey) -> tuple[dict, dict, dict]:
    """Counted in SQL, grouped: people who answered each question, each choice's count, and
    each yes/no and rating value's count. Three queries."""
    answered = dict(
        Answer.objects.filter(question__survey=survey)
        .values_list("question")
        .annotate(n=Count("pk"))
        .order_by()
    )
    chosen = dict(
        Choice.objects.filter(question__survey=survey)
        .values_list("pk")
        .annotate(n=Count("answers"))
        .order_by()
    )
    values = defaultdict(Counter)
    for question_id, text, number, n in (
        Answer.objects.filter(
            question__survey=survey,
            question__kind__in=[Question.Kind.YES_NO, Question.Kind.RATING],
        )
        .values_list("question_id", "text", "number")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        values[question_id][number if number is not None else text] += n
    return answered, chosen, values


def _figures(survey: Survey, questions: list[Question]) -> list[dict]:
    """Each question's figures, chart and table, in order."""
    answered, chosen, values = _counts(survey)
    figures = []
    for question in questions:
        total = answered.get(question.pk, 0)
        item = {"question": question, "answered": total, "rows": [], "texts": None}
        if question.kind in CHOSEN:
            counts = [(c.text, chosen.get(c.pk, 0)) for c in question.choices.all()]
            item["rows"] = _rows(counts, total)
        elif question.kind == Question.Kind.YES_NO:
            counts = values[question.pk]
            item["rows"] = _rows([(_("Yes"), counts["yes"]), (_("No"), counts["no"])], total)
        elif question.kind == Question.Kind.RATING:
            counts = values[question.pk]
            item["rows"] = _rows([(RATINGS_LABELS[n], counts[n]) for n in range(1, 6)], total)
        else:
            item["texts"] = True
        item["height"] = 28 * len(item["rows"])
        item["chart"] = (
            render_to_string("engagement/survey_result_chart.html", {"item": item})
            if item["rows"]
            else ""
        )
        figures.append(item)
    return figures


def summarise(survey: Survey) -> tuple[int, list[dict]]:
    """How many responses the survey has, and per question, in order: the question, how many
    answered, a row per answer offered (label, count, percentage, bar), and its chart and
    table as HTML. Computed once per revision of the survey's questions, choices, responses
    and answers (and per language), questions included, so the figures always match the
    questions shown with them; read from the computed cache otherwise. `survey` comes with
    its revision (`Survey.objects.with_results_revision()`), read before any of that."""

    def compute() -> tuple[int, list[dict]]:
        questions = list(survey.questions.prefetch_related("choices"))
        responses = Response.objects.filter(survey=survey).count()
        return responses, _figures(survey, questions)

    version = version_of(survey.pk, survey.results_revision, get_language())
    return computed("survey-results", version, compute)


def texts(
    survey: Survey, questions: list[Question], *, search: str = "", page: int = 1
) -> dict[int, tuple[list[tuple[int, str]], bool]]:
    """A page of what people wrote to each written question, as (answer id, text), the most
    recently written first, optionally only answers containing `search`, and whether there
    are more. One query per written question, paged in SQL along the (question, id) index."""
    written = {}
    offset = (page - 1) * TEXTS_PER_PAGE
    for question in questions:
        if question.kind not in (Question.Kind.SHORT_TEXT, Question.Kind.LONG_TEXT):
            continue
        answers = Answer.objects.filter(question=question).exclude(text="")
        if search:
            answers = answers.filter(text__icontains=search)
        rows = list(
            answers.order_by("-pk").values_list("pk", "text")[offset : offset + TEXTS_PER_PAGE + 1]
        )
        written[question.pk] = (rows[:TEXTS_PER_PAGE], len(rows) > TEXTS_PER_PAGE)
    return written


# --- Every response as CSV ---------------------------------------------------------------------


def csv_header(questions: list[Question]) -> list[str]:
    return [
        _("answered"),
        _("named"),
        _("entered from paper for"),
        _("may be contacted by"),
        _("contact details"),
    ] + [q.text for q in questions]


def _answer_column(question: Question) -> Subquery:
    """A response's answer to `question` as one value: the ids of the choices it chose,
    joined by commas, or its number or text."""
    if question.kind in CHOSEN:
        return Subquery(
            Answer.choices.through.objects.filter(
                answer__response=OuterRef("pk"), answer__question=question
            )
            .values("answer")
            .annotate(ids=GroupedIds("choice"))
            .values("ids")
        )
    column = "number" if question.kind == Question.Kind.RATING else "text"
    return Subquery(
        Answer.objects.filter(response=OuterRef("pk"), question=question).values(column)[:1]
    )


def csv_rows(survey: Survey, questions: list[Question]) -> Iterator[list]:
    """One row per response, oldest first, with the columns of `csv_header`. One query
    (each answer is a subquery of its response's row); labels translated now."""
    named = {True: _("yes"), False: _("no")}
    contact_by = {
        value: str(label) for value, label in Response._meta.get_field("contact_by").choices
    }
    # Choices in the order the question offers them, which is the order they are written.
    choices = {
        str(pk): (position, pk, text)
        for pk, position, text in Choice.objects.filter(question__survey=survey).values_list(
            "pk", "position", "text"
        )
    }
    columns = {f"a{q.pk}": _answer_column(q) for q in questions}
    responses = (
        Response.objects.filter(survey=survey)
        .order_by("created_at", "pk")
        .annotate(**columns)
        .values_list(
            "created_at", "user_id", "on_behalf_of", "contact_by", "contact_details", *columns
        )
    )

    def cell(question, value):
        if question.kind in CHOSEN:
            chosen = sorted(choices[pk] for pk in split_ids(value) if pk in choices)
            return "; ".join(text for _position, _pk, text in chosen)
        return "" if value is None else value

    def generate():
        for created_at, user_id, on_behalf_of, contact, details, *answers in responses.iterator(
            chunk_size=CHUNK_SIZE
        ):
            yield [
                created_at.isoformat(),
                named[bool(user_id)],
                on_behalf_of,
                contact_by.get(contact, contact) if contact else "",
                details,
                *(cell(q, value) for q, value in zip(questions, answers, strict=True)),
            ]

    return generate()
