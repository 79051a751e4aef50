"""The survey answers CSV and the finance CSV are streamed from a fixed number of queries,
whatever their length, with the same columns and escaping as before."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from communities.models import Membership
from engagement.models import Answer, Claim, Expense, Response, Survey
from members import revisions
from members.models import User
from tests.engagement.test_surveys import make_survey

pytestmark = pytest.mark.django_db


def rows_of(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


# --- Survey answers -----------------------------------------------------------------------------


def add_responses(survey, questions, n):
    """n responses from paper, each answering every question."""
    clear, topics, rating, words = questions
    first, second, _third = topics.choices.all()
    responses = Response.objects.bulk_create(
        Response(survey=survey, on_behalf_of=f"Person {i}") for i in range(n)
    )
    answers = Answer.objects.bulk_create(
        answer
        for r in responses
        for answer in (
            Answer(response=r, question=clear, text="yes"),
            Answer(response=r, question=topics),
            Answer(response=r, question=rating, number=4),
            Answer(response=r, question=words, text="Shorter letters"),
        )
    )
    Answer.choices.through.objects.bulk_create(
        Answer.choices.through(answer_id=a.pk, choice_id=choice.pk)
        for a in answers
        if a.question_id == topics.pk
        for choice in (second, first)
    )
    # Written in bulk, so without signals: the survey's revision is raised as any bulk
    # writer raises it.
    revisions.bump(revisions.key(Survey.RESULTS_REVISION, survey.pk))
    return responses


def survey_csv(client, community, survey):
    return client.get(
        reverse("engagement:manage_survey_results_csv", args=[community.slug, survey.pk])
    )


@pytest.mark.parametrize("size", [3, 300])
def test_the_survey_csv_costs_the_same_queries_at_any_size(
    client, community, coordinator, size, django_assert_num_queries
):
    survey, *questions = make_survey(community)
    add_responses(survey, questions, size)
    client.force_login(coordinator)
    # session, user, community, may they coordinate, the survey, its questions, the choices
    # (to name them in order), then every row in one query (each answer a subquery).
    with django_assert_num_queries(8):
        response = survey_csv(client, community, survey)
        assert len(rows_of(response)) == 1 + size


def test_the_survey_csv_is_streamed_with_every_answer(client, community, coordinator):
    survey, *questions = make_survey(community)
    [answered] = add_responses(survey, questions, 1)
    silent = Response.objects.create(survey=survey, contact_by="phone", contact_details="0114")
    Answer.objects.create(response=silent, question=questions[3], text="+ more buses")
    client.force_login(coordinator)
    response = survey_csv(client, community, survey)
    assert response.streaming is True
    assert response["Content-Disposition"] == f'attachment; filename="survey-{survey.pk}.csv"'
    header, first, second = rows_of(response)
    assert header == [
        "answered",
        "named",
        "entered from paper for",
        "may be contacted by",
        "contact details",
        "Were they clear?",
        "What should change?",
        "Overall, out of 5",
        "Anything else?",
    ]
    # Choices in the order the question offers them, not the order they were stored.
    assert first == [
        answered.created_at.isoformat(),
        "no",
        "Person 0",
        "",
        "",
        "yes",
        "Words; Length",
        "4",
        "Shorter letters",
    ]
    # Unanswered questions are empty; what a person wrote cannot run as a formula.
    assert second[3:] == ["Phone", "0114", "", "", "", "'+ more buses"]


# --- Finance ------------------------------------------------------------------------------------


def add_claims(community, n):
    """n approved claims for time, each with two expenses, by n people."""
    people = User.objects.bulk_create(
        User(email=f"claimant{i}@example.org", name=f"Claimant {i:04d}") for i in range(n)
    )
    Membership.objects.bulk_create(
        Membership(community=community, user=person, status="active") for person in people
    )
    claims = Claim.objects.bulk_create(
        Claim(
            community=community,
            claimant=person,
            kind="hours",
            activity="training",
            date=date(2026, 5, 1),
            hours=Decimal("2"),
            rate_amount=Decimal("20"),
            rate_basis="hour",
            fee=Decimal("40"),
            payable=Decimal("40"),
            choice="accept",
            status="approved",
        )
        for person in people
    )
    Expense.objects.bulk_create(
        Expense(claim=claim, kind=kind, amount=amount)
        for claim in claims
        for kind, amount in (("travel", Decimal("3.20")), ("other", Decimal("1.05")))
    )
    return claims


def finance_csv(client, community):
    return client.get(
        reverse("engagement:manage_payments_csv", args=[community.slug]),
        {"start": "2026-04-06", "end": "2027-04-05"},
    )


@pytest.mark.parametrize("size", [3, 300])
def test_the_finance_csv_costs_the_same_queries_at_any_size(
    client, community, coordinator, size, django_assert_num_queries
):
    add_claims(community, size)
    client.force_login(coordinator)
    # session, user, community, may they coordinate, then every claim in one query (with
    # claimant and paid role joined, and expenses summed in a subquery).
    with django_assert_num_queries(5):
        response = finance_csv(client, community)
        assert len(rows_of(response)) == 1 + size


def test_the_finance_csv_is_streamed_with_expenses_summed(client, community, coordinator):
    [claim] = add_claims(community, 1)
    User.objects.filter(pk=claim.claimant_id).update(name="-Claimant")
    client.force_login(coordinator)
    response = finance_csv(client, community)
    assert response.streaming is True
    assert rows_of(response)[1] == [
        "'-Claimant",
        "",
        "Training",
        "2026-05-01",
        "2.00",
        "20.00",
        "Per hour",
        "40.00",
        "Accept payment",
        "4.25",
        "44.25",
        "Approved",
        "",
        "",
    ]
