"""Revisions: numbers raised in the writer's own transaction, read in one query, raised once
per transaction, and safe when two writers create the first row at once."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count

from members import revisions
from members.computed import computed
from members.models import Revision, User
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

KEY = "thing:1"


class Refused(Exception):
    pass


def test_keys_are_read_in_order_in_one_query_and_a_key_never_raised_is_zero(
    django_assert_num_queries,
):
    revisions.bump(KEY)
    with django_assert_num_queries(1):
        assert revisions.read("thing:2", KEY) == (0, 1)


def test_the_number_is_read_with_each_row(db):
    first, second = make_person("a@example.org"), make_person("b@example.org")
    revisions.bump(revisions.key("person", second.pk))
    people = User.objects.filter(pk__in=[first.pk, second.pk]).annotate(
        revision=revisions.annotation("person")
    )
    assert {p.pk: p.revision for p in people} == {first.pk: 0, second.pk: 1}


def test_a_transaction_raises_a_key_once_until_a_result_is_read_in_it(
    django_assert_num_queries,
):
    # One statement for both, however many rows a write touches.
    with django_assert_num_queries(1):
        revisions.bump(KEY, "thing:2")
        revisions.bump(KEY)
        revisions.bump("thing:2")
    assert revisions.read(KEY) == (1,)
    # Something computed now saw the new number before commit: the next write raises again,
    # so what it kept is never taken for data written after it.
    computed("test-thing", "anything", lambda: 1)
    revisions.bump(KEY)
    assert revisions.read(KEY) == (2,)


def test_a_bump_undone_with_its_savepoint_is_made_again(django_assert_num_queries):
    with pytest.raises(Refused), transaction.atomic():
        revisions.bump(KEY)
        raise Refused
    assert not Revision.objects.filter(key=KEY).exists()
    with django_assert_num_queries(1):
        revisions.bump(KEY)
    assert Revision.objects.get(key=KEY).number == 1


@pytest.mark.django_db(transaction=True)
def test_each_transaction_adds_one_from_the_first_row_on():
    for _ in range(2):
        with transaction.atomic():
            revisions.bump(KEY)
    revisions.bump(KEY)  # and outside a transaction
    with pytest.raises(Refused), transaction.atomic():
        revisions.bump(KEY)
        raise Refused  # rolled back: nothing added, and the next one is not skipped
    with transaction.atomic():
        revisions.bump(KEY)
    assert revisions.read(KEY) == (4,)


# SQLite lets one writer in at a time, so the first row cannot be raced there: the race is a
# PostgreSQL test (CI runs it), and on SQLite the sequential case above is the whole story.
RACES = connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False])
def test_two_writers_creating_the_first_row_at_once_each_count(first_commits):
    """The second writer's statement runs while the first's new row is uncommitted: it
    waits for it, then raises that row (or, if the first rolled back, creates it)."""
    waiting = threading.Event()
    pids, errors = [], []

    def second_writer():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            waiting.set()
            with transaction.atomic():
                revisions.bump(KEY)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            waiting.set()
            connections.close_all()

    thread = threading.Thread(target=second_writer)
    try:
        with transaction.atomic():
            revisions.bump(KEY)  # the row is made, not yet committed
            thread.start()
            assert waiting.wait(30)
            _until_blocked(pids[0])
            if not first_commits:
                transaction.set_rollback(True)
    finally:
        thread.join(30)
    assert errors == []
    assert revisions.read(KEY) == ((2,) if first_commits else (1,))
    assert Revision.objects.aggregate(n=Count("*"))["n"] == 1


if not RACES:
    del test_two_writers_creating_the_first_row_at_once_each_count


def _until_blocked(pid: int) -> None:
    """Wait until the backend `pid` waits for a lock held by this transaction."""
    with connection.cursor() as cursor:
        for _ in range(3000):
            cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
            if cursor.fetchone():
                return
            cursor.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("The second writer never waited for the first one's row.")
