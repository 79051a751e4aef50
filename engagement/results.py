"""Survey results: counts and percentages per choice question, the words people wrote, and
a CSV of every response. A fixed number of queries however many answers there are."""

from collections import Counter, defaultdict

from django.db.models import Count
from django.utils.translation import gettext as _

from engagement.models import RATINGS_LABELS, Answer, Choice, Question, Survey

CHART_WIDTH = 300  # the longest bar, in the SVG's own units


def _rows(counts: list[tuple[str, int]], answered: int) -> list[dict]:
    top = max((n for _label, n in counts), default=0) or 1
    return [
        {
            "label": label,
            "count": n,
            "percent": round(100 * n / answered) if answered else 0,
            "width": round(CHART_WIDTH * n / top),
            "y": 28 * i,
        }
        for i, (label, n) in enumerate(counts)
    ]


def summarise(survey: Survey) -> list[dict]:
    questions = list(survey.questions.all())
    answered = dict(
        Answer.objects.filter(question__survey=survey)
        .values_list("question")
        .annotate(n=Count("pk"))
        .order_by()
    )
    choice_counts = defaultdict(list)
    for choice in (
        Choice.objects.filter(question__survey=survey)
        .annotate(n=Count("answers"))
        .order_by("question_id", "position", "pk")
    ):
        choice_counts[choice.question_id].append((choice.text, choice.n))
    values = defaultdict(Counter)
    for question_id, text, number in Answer.objects.filter(
        question__survey=survey, question__kind__in=[Question.Kind.YES_NO, Question.Kind.RATING]
    ).values_list("question_id", "text", "number"):
        values[question_id][number if number is not None else text] += 1
    summary = []
    for question in questions:
        total = answered.get(question.pk, 0)
        item = {"question": question, "answered": total, "rows": [], "texts": None}
        if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            item["rows"] = _rows(choice_counts[question.pk], total)
        elif question.kind == Question.Kind.YES_NO:
            counts = values[question.pk]
            item["rows"] = _rows([(_("Yes"), counts["yes"]), (_("No"), counts["no"])], total)
        elif question.kind == Question.Kind.RATING:
            counts = values[question.pk]
            item["rows"] = _rows([(RATINGS_LABELS[n], counts[n]) for n in range(1, 6)], total)
        else:
            item["texts"] = True
        item["height"] = 28 * len(item["rows"])
        summary.append(item)
    return summary


def texts(
    survey: Survey, *, search: str = "", limit: int = 200
) -> dict[int, list[tuple[int, str]]]:
    """What people wrote to each written question, as (answer id, text), newest first,
    `limit` per question, optionally only answers containing `search`. One query per written
    question."""
    written = {}
    for question in survey.questions.filter(
        kind__in=[Question.Kind.SHORT_TEXT, Question.Kind.LONG_TEXT]
    ):
        answers = Answer.objects.filter(question=question).exclude(text="")
        if search:
            answers = answers.filter(text__icontains=search)
        written[question.pk] = list(
            answers.order_by("-response__created_at").values_list("pk", "text")[:limit]
        )
    return written
