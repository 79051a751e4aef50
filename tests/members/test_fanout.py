"""Fan-outs: the request records a promise to tell an audience, the worker writes the outbox
rows in batches, and a run that dies is carried on without doubling or missing anyone."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Membership
from members import fanout, outbox
from members.fanout import Audience, Contact
from members.models import FanOut, FanOutPerson, Notification, User
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

AUDIENCE = "test-crowd"
CONTACTS: list[Contact] = []


def _crowd_audience(_membership) -> Audience:
    return Audience(
        people=User.objects.filter(name__startswith="Person ").order_by("-pk"),
        contacts=list(CONTACTS),
    )


@pytest.fixture(autouse=True)
def crowd_audience():
    fanout.register_audience(AUDIENCE, _crowd_audience)
    CONTACTS.clear()
    yield
    CONTACTS.clear()


def crowd(count: int) -> list[User]:
    User.objects.bulk_create(
        User(email=f"person{i}@example.org", name=f"Person {i}") for i in range(count)
    )
    return list(User.objects.filter(name__startswith="Person ").order_by("pk"))


@pytest.fixture
def about(community):
    asker = make_person("asker@example.org")
    return Membership.objects.create(community=community, user=asker, status="requested")


def begin(about, community) -> FanOut:
    with transaction.atomic():
        return fanout.start(
            kind="join_request",
            audience=AUDIENCE,
            about=about,
            community=community,
            context={"person_name": "Ama"},
        )


def rows_per_person() -> Counter:
    return Counter(
        Notification.objects.filter(kind="join_request").values_list("recipient", flat=True)
    )


def test_starting_records_the_promise_and_writes_nobody_in_the_request(
    about, community, django_capture_on_commit_callbacks
):
    crowd(5)
    with django_capture_on_commit_callbacks() as callbacks:
        first = begin(about, community)
        again = begin(about, community)
    assert first.pk == again.pk and FanOut.objects.count() == 1
    assert first.state == FanOut.State.WRITING and first.total is None
    assert not Notification.objects.exists()
    assert len(callbacks) == 1, "the worker is asked once, after commit"


def test_an_unknown_kind_or_audience_is_refused_in_the_request(about, community):
    with pytest.raises(LookupError):
        fanout.start(kind="no-such-kind", audience=AUDIENCE, about=about)
    with pytest.raises(LookupError):
        fanout.start(kind="join_request", audience="no-such-audience", about=about)
    assert not FanOut.objects.exists()


def test_the_worker_writes_everyone_once_in_batches(about, community):
    people = crowd(23)
    fan_out = begin(about, community)
    with CaptureQueriesContext(connection) as queries:
        assert fanout.advance(fan_out.pk, batch_size=5) is False
    fan_out.refresh_from_db()
    assert fan_out.state == FanOut.State.DONE and fan_out.finished_at is not None
    assert (fan_out.total, fan_out.done_count, fan_out.cursor) == (23, 23, people[-1].pk)
    assert rows_per_person() == Counter({p.pk: 1 for p in people})
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    kept = [q for q in inserts if "members_fanoutperson" in q]
    assert len(kept) == 1, "the audience is kept in one INSERT ... SELECT"
    written = [q for q in inserts if "members_notification" in q]
    assert len(written) == 5, "one INSERT a batch of five, whatever the audience's size"
    assert not FanOutPerson.objects.exists(), "the kept list goes as it is written"
    row = Notification.objects.filter(kind="join_request").first()
    assert row.context == {"person_name": "Ama"} and row.community == community


def test_a_run_that_dies_mid_way_is_carried_on_without_doubling_or_missing_anyone(
    about, community, monkeypatch
):
    people = crowd(23)
    fan_out = begin(about, community)
    real_notify, calls = outbox.notify, []

    def dies_on_the_third_batch(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the worker died")
        return real_notify(**kwargs)

    monkeypatch.setattr(outbox, "notify", dies_on_the_third_batch)
    with pytest.raises(RuntimeError):
        fanout.advance(fan_out.pk, batch_size=5)
    fan_out.refresh_from_db()
    # Two batches committed with their cursor; the third rolled back whole.
    assert (fan_out.state, fan_out.done_count) == (FanOut.State.WRITING, 10)
    assert fan_out.cursor == people[9].pk
    assert rows_per_person() == Counter({p.pk: 1 for p in people[:10]})
    # A live worker's fan-out is not taken over; one silent for longer than the lease is.
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    assert FanOut.objects.get().done_count == 10
    FanOut.objects.update(claimed_at=timezone.now() - timedelta(seconds=fanout.LEASE_SECONDS + 1))
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    assert FanOut.objects.get().state == FanOut.State.DONE
    assert rows_per_person() == Counter({p.pk: 1 for p in people})


def test_rows_already_written_are_not_written_again_when_the_cursor_was_lost(about, community):
    """Even if a fan-out were walked again from the start (its cursor and kept list commit
    with the rows, but suppose not; fan-outs begun before the list was kept are started
    again this way), the outbox's unique key keeps everyone to one row."""
    people = crowd(12)
    fan_out = begin(about, community)
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    FanOut.objects.update(state=FanOut.State.WRITING, total=None, cursor=0, claim="", done_count=0)
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    assert rows_per_person() == Counter({p.pk: 1 for p in people})


def test_a_worker_that_lost_its_hold_writes_nothing_more(about, community, monkeypatch):
    crowd(12)
    fan_out = begin(about, community)
    real_notify = outbox.notify

    def taken_over_meanwhile(**kwargs):
        written = real_notify(**kwargs)
        FanOut.objects.update(claim="another-worker", claimed_at=timezone.now())
        return written

    monkeypatch.setattr(outbox, "notify", taken_over_meanwhile)
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    fan_out.refresh_from_db()
    # Its batch rolled back with the failed move of the cursor (here the take-over too, as it
    # happened in the same transaction); it did not finish the fan-out. The holder writes it.
    assert (fan_out.state, fan_out.done_count) == (FanOut.State.WRITING, 0)
    assert not Notification.objects.filter(kind="join_request").exists()


def test_a_run_out_of_time_hands_the_rest_to_the_next_run(about, community):
    people = crowd(12)
    fan_out = begin(about, community)
    assert fanout.advance(fan_out.pk, batch_size=5, budget_seconds=0) is True
    fan_out.refresh_from_db()
    assert fan_out.done_count == 5 and fan_out.claim == ""
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    assert rows_per_person() == Counter({p.pk: 1 for p in people})


def test_contacts_hear_once_by_email_or_go_on_the_letters_and_calls_list(about, community):
    [person] = crowd(1)
    CONTACTS.extend(
        [
            Contact("Mrs Khan", "email", "Khan@Example.org"),
            Contact("Person, on paper", "email", person.email.upper()),  # hears as the person
            Contact("Mr Post", "post", "1 High Street"),
            Contact("Ms Phone", "phone", "0114 000 0000"),
            Contact("Bad address", "email", "not an address"),  # written to instead
        ]
    )
    fan_out = begin(about, community)
    assert fanout.advance(fan_out.pk, batch_size=2) is False
    rows = Notification.objects.filter(kind="join_request")
    assert sorted(rows.filter(channel="email").values_list("email", flat=True)) == [
        "khan@example.org",
        person.email,
    ]
    assert sorted(rows.exclude(channel="email").values_list("channel", flat=True)) == [
        "phone",
        "post",
        "post",
    ]
    fan_out.refresh_from_db()
    assert (fan_out.total, fan_out.done_count, fan_out.contacts_done) == (6, 6, 5)


def test_progress_says_how_far_it_has_got(about, community):
    people = crowd(6)
    people[0].updates_delivery = "never"  # not this group, so still told
    people[1].contact_channel = "post"
    User.objects.bulk_update(people[:2], ["updates_delivery", "contact_channel"])
    User.objects.filter(pk=people[2].pk).update(email="gone@example.invalid")
    fan_out = begin(about, community)
    assert fanout.progress(kind="join_request", about=about) == fanout.Progress(
        finished=False, total=None, done=0, kind="join_request"
    )
    fanout.advance(fan_out.pk, batch_size=4, budget_seconds=0)
    half = fanout.progress(kind="join_request", about=about)
    assert (half.finished, half.total, half.done, half.percent) == (False, 6, 4, 66)
    fanout.advance(fan_out.pk)
    Notification.objects.filter(recipient=people[3]).update(state="sent")
    done = fanout.progress(kind="join_request", about=about)
    assert done.finished and done.percent == 100
    assert (done.sent, done.waiting, done.to_contact, done.not_sent) == (1, 3, 1, 1)
    assert done.told == 5


def test_resuming_hands_over_fan_outs_never_started_or_left_by_a_dead_worker(
    about, community, monkeypatch
):
    handed = []
    monkeypatch.setattr(fanout, "enqueue", handed.append)
    crowd(3)
    waiting = begin(about, community)
    other = make_person("other@example.org")
    second_about = Membership.objects.create(community=community, user=other, status="requested")
    held = begin(second_about, community)
    FanOut.objects.filter(pk=held.pk).update(claim="alive", claimed_at=timezone.now())
    assert fanout.resume_stalled() == 1 and handed == [waiting.pk]
    FanOut.objects.filter(pk=held.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=fanout.LEASE_SECONDS + 1)
    )
    handed.clear()
    assert fanout.resume_stalled() == 2 and sorted(handed) == sorted([waiting.pk, held.pk])
    fanout.advance(waiting.pk)
    handed.clear()
    assert fanout.resume_stalled() == 1 and handed == [held.pk]


def test_a_contact_added_between_runs_shifts_nobody_out(about, community):
    """Contacts are walked by position in the list kept when the fan-out started, so one
    added (or removed) before a resumed run cannot make it skip anyone."""
    CONTACTS.extend(
        Contact(f"Person {name}", "post", f"{name} High Street") for name in ("B", "C", "D", "E")
    )
    fan_out = begin(about, community)
    assert fanout.advance(fan_out.pk, batch_size=2, budget_seconds=0) is True
    CONTACTS.insert(0, Contact("Person A", "post", "A High Street"))  # sorts first
    assert fanout.advance(fan_out.pk, batch_size=2) is False
    told = Notification.objects.filter(kind="join_request").values_list("context", flat=True)
    assert sorted(c["name"] for c in told) == [f"Person {n}" for n in "BCDE"]


# --- The audience is kept once --------------------------------------------------------------

FOUND: list[str] = []


def _counted_audience(membership) -> Audience:
    FOUND.append(membership.user.email)
    prefix = "Small " if membership.user.email.startswith("small") else "Large "
    return Audience(people=User.objects.filter(name__startswith=prefix))


@pytest.mark.parametrize("size", [30, 3000])
def test_a_batch_costs_the_same_whatever_the_audience(community, size, django_assert_num_queries):
    fanout.register_audience("test-counted", _counted_audience)
    FOUND.clear()
    prefix = "Small" if size == 30 else "Large"
    User.objects.bulk_create(
        User(email=f"{prefix.lower()}{i}@example.org", name=f"{prefix} {i}") for i in range(size)
    )
    asker = make_person(f"{prefix.lower()}-asker@example.org")
    about = Membership.objects.create(community=community, user=asker, status="requested")
    with transaction.atomic():
        fan_out = fanout.start(
            kind="join_request", audience="test-counted", about=about, community=community
        )
    with CaptureQueriesContext(connection) as keeping:
        assert fanout.advance(fan_out.pk, batch_size=5, budget_seconds=0) is True
    fan_out.refresh_from_db()
    assert (fan_out.total, fan_out.done_count) == (size, 5)
    assert FanOutPerson.objects.filter(fan_out=fan_out).count() == size - 5
    assert not [q for q in keeping.captured_queries if "COUNT(" in q["sql"]], (
        "the total is the number of people kept, not another count of the audience"
    )
    # One batch: hold the fan-out, read it and its object; in a savepoint, the next five
    # from the kept list, those people, their outbox rows (insert, the new rows' ids, and
    # the claim cleared), their removal from the list, the cursor; then let go (out of time).
    with django_assert_num_queries(13) as batch:
        assert fanout.advance(fan_out.pk, batch_size=5, budget_seconds=0) is True
    assert not [q for q in batch.captured_queries if "LIKE" in q["sql"]], (
        "a batch never works the audience out again"
    )
    assert fanout.advance(fan_out.pk, batch_size=1000) is False
    assert FOUND == [asker.email], "the audience is worked out once, when the worker starts"
    assert not FanOutPerson.objects.exists(), "nothing is kept once everyone is written to"
    assert rows_per_person() == Counter(
        {pk: 1 for pk in User.objects.filter(name__startswith=prefix).values_list("pk", flat=True)}
    )


def test_someone_who_joins_the_audience_after_the_start_is_not_told_by_it(about, community):
    """The audience is the one found when the worker started."""
    people = crowd(12)
    fan_out = begin(about, community)
    assert fanout.advance(fan_out.pk, batch_size=5, budget_seconds=0) is True
    User.objects.filter(pk=people[-1].pk).update(name="Left the crowd")
    late = make_person("late@example.org", name="Person late")
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    fan_out.refresh_from_db()
    assert (fan_out.state, fan_out.total, fan_out.done_count) == (FanOut.State.DONE, 12, 12)
    assert rows_per_person() == Counter({p.pk: 1 for p in people})
    assert late.pk not in rows_per_person()


def test_a_worker_killed_while_keeping_the_audience_keeps_nothing(about, community, monkeypatch):
    """The kept list and the total commit together: a worker that dies first leaves no
    list, and the next run keeps the audience afresh, once."""
    people = crowd(12)
    fan_out = begin(about, community)
    real_insert = fanout._insert_people

    def dies_after_the_insert(*args):
        real_insert(*args)
        raise RuntimeError("the worker died")

    monkeypatch.setattr(fanout, "_insert_people", dies_after_the_insert)
    with pytest.raises(RuntimeError):
        fanout.advance(fan_out.pk, batch_size=5)
    fan_out.refresh_from_db()
    assert fan_out.total is None and not FanOutPerson.objects.exists()
    monkeypatch.setattr(fanout, "_insert_people", real_insert)
    FanOut.objects.update(claimed_at=timezone.now() - timedelta(seconds=fanout.LEASE_SECONDS + 1))
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    fan_out.refresh_from_db()
    assert (fan_out.state, fan_out.total, fan_out.done_count) == (FanOut.State.DONE, 12, 12)
    assert rows_per_person() == Counter({p.pk: 1 for p in people})


def test_a_worker_that_lost_its_hold_while_keeping_the_audience_keeps_nothing(
    about, community, monkeypatch
):
    crowd(12)
    fan_out = begin(about, community)
    real_insert = fanout._insert_people

    def taken_over_meanwhile(*args):
        kept = real_insert(*args)
        FanOut.objects.update(claim="another-worker", claimed_at=timezone.now())
        return kept

    monkeypatch.setattr(fanout, "_insert_people", taken_over_meanwhile)
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    fan_out.refresh_from_db()
    assert fan_out.total is None and not FanOutPerson.objects.exists()
    assert not Notification.objects.filter(kind="join_request").exists()


@pytest.mark.parametrize("gone", ["before it starts", "mid-way"])
def test_a_fan_out_whose_object_has_gone_finishes_and_keeps_nothing(about, community, gone):
    crowd(12)
    fan_out = begin(about, community)
    if gone == "mid-way":
        assert fanout.advance(fan_out.pk, batch_size=5, budget_seconds=0) is True
    about.delete()
    assert fanout.advance(fan_out.pk, batch_size=5) is False
    fan_out.refresh_from_db()
    assert fan_out.state == FanOut.State.DONE
    assert fan_out.done_count == (5 if gone == "mid-way" else 0)
    assert not FanOutPerson.objects.exists()
    assert Notification.objects.filter(kind="join_request").count() == fan_out.done_count


def test_a_deleted_fan_out_takes_its_kept_list_with_it(about, community):
    """The list has no database constraint (see FanOutPerson); Django deletes it instead."""
    crowd(12)
    fan_out = begin(about, community)
    assert fanout.advance(fan_out.pk, batch_size=5, budget_seconds=0) is True
    assert FanOutPerson.objects.filter(fan_out=fan_out).count() == 7
    community.delete()
    assert not FanOut.objects.exists() and not FanOutPerson.objects.exists()
