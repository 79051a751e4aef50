"""The core promise, read two ways: the people an update is sent to (its audience) are
exactly the people whose "what happened to my input" shows that update against something
they gave. Ideas merged into others, ideas made from survey answers and heard at sessions,
attendees, respondents (named or not), and people who left, on random communities."""

from datetime import timedelta

import pytest
from django.utils import timezone

from improvement import inputs
from improvement.models import Update
from members.models import User
from tests.improvement.test_contributors import random_community

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def answered_in_my_input(person) -> set[int]:
    """The updates "what happened to my input" shows to `person`, on every page."""
    rows = inputs.Inputs(person)
    items = inputs.fill(person, rows[0 : rows.count()])
    return {update.pk for item in items for update in item["updates"]}


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_an_updates_audience_is_everyone_whose_input_it_answers(community, seed):
    rng, standing, sessions, surveys = random_community(community, seed)
    updates = []
    for n in range(8):
        update = Update.objects.create(
            community=community,
            title=f"Update {n}",
            what_we_heard="h",
            what_we_did="d",
            status=Update.Status.PUBLISHED,
            published_at=timezone.now() - n * HOUR,
        )
        update.ideas.set(rng.sample(standing, rng.randint(0, 3)))
        update.sessions.set(rng.sample(sessions, rng.randint(0, 1)))
        update.surveys.set(rng.sample(surveys, rng.randint(0, 1)))
        updates.append(update)
    people = User.objects.filter(is_active=True, erased_at__isnull=True)
    shown = {person.pk: answered_in_my_input(person) for person in people}
    told_anyone = 0
    for update in updates:
        audience = set(update.audience().members.values_list("pk", flat=True))
        seen_by = {pk for pk, answered in shown.items() if update.pk in answered}
        assert audience == seen_by, (seed, update.title)
        told_anyone += bool(audience)
    assert told_anyone >= 4  # the random updates reached people, so the check says something
