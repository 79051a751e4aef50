"""The one status-change contract (`members.status`), held by every model with a table.

The models are found, not listed: any model with a `NEXT_STATUSES` table is checked, so a new
one cannot be left out. For each, every pair of statuses: staying put returns False and writes
nothing; a move the table allows returns True and saves the status with only what moves with
it (an edit still open in memory is not written); a move it refuses raises `StatusError` and
writes nothing. Who made the move is kept where the model keeps who decided.
"""

from datetime import date, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Membership
from engagement.models import Claim, Session
from improvement.models import Idea, PrioritisationRound, Project
from members.status import StatusError, StatusModel
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db

WITH_TABLES = sorted(
    (model for model in apps.get_models() if hasattr(model, "NEXT_STATUSES")),
    key=lambda model: model._meta.label,
)
LONG_AGO = timezone.now() - timedelta(days=30)
REASON = "We have no clinic time for it this year."


def _membership(community, member, status):
    membership = Membership.objects.get(community=community, user=member)
    Membership.objects.filter(pk=membership.pk).update(status=status)
    membership.refresh_from_db()
    return membership


def _session(community, member, status):
    start = timezone.now() + timedelta(days=7)
    return Session.objects.create(
        community=community,
        title="Drop-in at the library",
        kind=Session.Kind.DROP_IN,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=status,
    )


def _claim(community, member, status):
    return Claim.objects.create(
        community=community,
        claimant=member,
        kind=Claim.Kind.HOURS,
        activity="training",
        date=date(2026, 5, 1),
        hours=2,
        choice="accept",
        status=status,
    )


def _idea(community, member, status):
    joined = make_idea(community, title="The idea it joined") if status == "merged" else None
    return make_idea(community, author=member, status=status, merged_into=joined)


def _round(community, member, status):
    return PrioritisationRound.objects.create(
        community=community, title="Which first?", created_by=member, status=status
    )


def _project(community, member, status):
    return Project.objects.create(
        community=community,
        title="Letters on time",
        aim_what="Letters before appointments",
        aim_how_much="From 40% to 90%",
        aim_by_when=date(2027, 3, 31),
        status=status,
    )


MAKERS = {
    Membership: _membership,
    Session: _session,
    Claim: _claim,
    Idea: _idea,
    PrioritisationRound: _round,
    Project: _project,
}

# The moves that record who made them, and the person the test makes them as: a coordinator
# answering a request to join, or deciding on a claim.
DECIDES = {
    (Membership, "requested", "active"),
    (Membership, "requested", "declined"),
    *((Claim, now, new) for now in Claim.Status.values for new in Claim.DECISIONS),
}


def _statuses(model) -> list[str]:
    return [value for value, _label in model._meta.get_field("status").choices]


CASES = [
    pytest.param(model, now, new, id=f"{model._meta.model_name}:{now}->{new}")
    for model in WITH_TABLES
    for now in _statuses(model)
    for new in _statuses(model)
]


def _scratch(model) -> str:
    """A text field the status never touches, to edit in memory and not save."""
    return next(
        f.name
        for f in model._meta.concrete_fields
        if f.get_internal_type() in ("CharField", "TextField") and not f.choices
    )


def test_every_model_with_a_table_keeps_the_one_contract():
    assert [m._meta.label for m in WITH_TABLES] == [
        "communities.Membership",
        "engagement.Claim",
        "engagement.Session",
        "improvement.Idea",
        "improvement.PrioritisationRound",
        "improvement.Project",
    ]
    for model in WITH_TABLES:
        assert issubclass(model, StatusModel), f"{model.__name__} has its own set_status"
        assert set(model.NEXT_STATUSES) == set(_statuses(model)), model.__name__
        assert "set_status" not in vars(model), f"{model.__name__} overrides the contract"
    assert set(MAKERS) == set(WITH_TABLES), "a model with a table needs a maker here"


@pytest.mark.parametrize(("model", "now", "new"), CASES)
def test_the_status_contract(model, now, new, community, member, coordinator):
    thing = MAKERS[model](community, member, now)
    stamps = {f: LONG_AGO for f in ("status_changed_at", "updated_at") if hasattr(thing, f)}
    model.objects.filter(pk=thing.pk).update(**stamps)
    thing.refresh_from_db()
    scratch = _scratch(model)
    setattr(thing, scratch, "Changed in memory, not to be saved")
    if model is Idea and new == "merged":
        thing.merged_into = thing.merged_into or make_idea(community, title="The one it joins")
    conditions = {"reason": REASON} if model is Idea else {}
    saved = model.objects.values().get(pk=thing.pk)

    if now == new:
        with CaptureQueriesContext(connection) as queries:
            assert thing.set_status(new, by=coordinator, **conditions) is False
        assert not queries.captured_queries
        assert model.objects.values().get(pk=thing.pk) == saved
        return

    if new not in model.NEXT_STATUSES[now]:
        with CaptureQueriesContext(connection) as queries:
            with pytest.raises(StatusError) as refused:
                thing.set_status(new, by=coordinator, **conditions)
        assert refused.value.messages and refused.value.messages[0].strip()
        assert not queries.captured_queries
        assert thing.status == now
        assert model.objects.values().get(pk=thing.pk) == saved
        return

    with CaptureQueriesContext(connection) as queries:
        assert thing.set_status(new, by=coordinator, **conditions) is True
    [update] = [q["sql"] for q in queries.captured_queries]
    assert update.startswith("UPDATE")
    column = model._meta.get_field(scratch).column
    assert f'"{column}"' not in update, f"{scratch}, edited in memory, was written"
    row = model.objects.values().get(pk=thing.pk)
    assert row["status"] == new
    assert row[scratch] == saved[scratch]
    for stamp in stamps:
        assert row[stamp] > LONG_AGO, f"{stamp} was not saved with the status"
    if "decided_by_id" in row:
        decider = coordinator.pk if (model, now, new) in DECIDES else saved["decided_by_id"]
        assert row["decided_by_id"] == decider


@pytest.mark.parametrize("new", ["left", "active"])
def test_a_person_moving_their_own_request_decides_nothing(community, member, new):
    """Withdrawing it, or joining through an invitation while it waits."""
    membership = _membership(community, member, "requested")
    assert membership.set_status(new, by=member) is True
    membership.refresh_from_db()
    assert (membership.decided_by, membership.decided_at) == (None, None)


def test_a_coordinator_answering_a_request_is_kept_with_when(community, member, coordinator):
    membership = _membership(community, member, "requested")
    membership.set_status("active", by=coordinator)
    membership.refresh_from_db()
    assert membership.decided_by == coordinator
    assert membership.decided_at == membership.status_changed_at == membership.joined_at


def test_no_admin_edits_the_status_of_a_saved_row(rf, staff):
    """Every admin of a model with a status table shows a saved row's status read-only: it
    moves only through set_status (the services and the admin's actions)."""
    request = rf.get("/")
    request.user = staff
    found = []
    for model, model_admin in admin.site._registry.items():
        if issubclass(model, StatusModel):
            found.append(model)
            assert "status" in model_admin.get_readonly_fields(request, model()), model
    assert len(found) >= 6
