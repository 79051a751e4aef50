"""Revisions: a number per computed result, raised by every write to the rows behind it.

A result kept in the computed cache (`members.computed`) is stored under the revision of the
rows it is made from, such as `survey:12` for a survey's results. Writers raise the number
with `bump()` inside their own transaction, holding the revision's row lock until commit, so
the new number becomes visible together with the change and never before it. A reader reads
the number first (`read()`, or `annotation()` with the object it shows) and the data after
it: whatever it computes is at least as new as the number it is kept under. Unlike the
newest `updated_at` of the rows (stamped when a row is saved, not when it is committed), the
number cannot miss a writer that commits after a later-stamped one.

Writes are followed in one place per kind of result: the app that owns the rows calls
`follow()` from its `ready()`, and every save, delete and many-to-many change of those
models, from any service or the admin, raises the revision of the object that owns them.
Writes that send no signals (`QuerySet.update()`, `bulk_create()`, raw SQL, COPY) call
`bump()` themselves.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from threading import local

from django.db import models, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from members.models import Revision


def key(kind: str, pk) -> str:
    """The revision key of the object `pk` for results of `kind`, e.g. `survey:12`."""
    return f"{kind}:{pk}"


def read(*keys: str) -> tuple[int, ...]:
    """The numbers of `keys`, in order, in one query; 0 for a key never raised. Keys read
    already by an enclosing `prefetched()` cost no query."""
    read_here()
    early = getattr(_early, "numbers", None)
    if early is not None and all(k in early for k in keys):
        return tuple(early[k] for k in keys)
    found = _numbers(keys)
    return tuple(found[k] for k in keys)


def _numbers(keys) -> dict[str, int]:
    """Each key's number, 0 for a key never raised, in one query."""
    found = dict(Revision.objects.filter(key__in=keys).values_list("key", "number"))
    return {k: found.get(k, 0) for k in keys}


_early = local()


@contextmanager
def prefetched(*keys: str):
    """Read the numbers of `keys` now, in one query, for every `read()` of them inside the
    block: a page whose parts each read their own revision reads them all at once. Reading
    a number earlier than its part would have is safe (what the part computes is then at
    least as new as the number), and the numbers are forgotten when the block ends."""
    outer = getattr(_early, "numbers", None)
    numbers = dict(outer or {})
    wanted = [k for k in dict.fromkeys(keys) if k not in numbers]
    if wanted:
        read_here()
        numbers.update(_numbers(wanted))
    _early.numbers = numbers
    try:
        yield
    finally:
        _early.numbers = outer


def _key_in_sql(kind: str, pk) -> Concat:
    return Concat(Value(f"{kind}:"), Cast(pk, CharField()), output_field=CharField())


def annotation(kind: str, of: str = "pk") -> Coalesce:
    """The revision number of each row of a QuerySet (`kind:<of>`), read in the same query
    as the row: `Survey.objects.annotate(revision=annotation("survey"))`. What is computed
    from it goes through `members.computed`, which says so with `read_here()`."""
    return _number_of(_key_in_sql(kind, OuterRef(of)))


def annotation_of(name: str) -> Coalesce:
    """The number of the one key `name` (such as `PEOPLE`), read in the same query as the
    rows it is annotated on."""
    return _number_of(Value(name))


def _number_of(name) -> Coalesce:
    number = Subquery(Revision.objects.filter(key=name).values("number")[:1])
    return Coalesce(number, Value(0), output_field=models.BigIntegerField())


# --- Raising the number ----------------------------------------------------------------------

_done = local()


def _marker() -> None:
    """Registered with `on_commit` for each bump: while it is still waiting in the
    connection's list, the bump it stands for is part of the open transaction."""


def _already(connection, name) -> bool:
    """Whether `name` was raised earlier in the transaction that is open now, by a bump that
    is still part of it (not undone by a rolled-back savepoint). Django drops a rolled-back
    savepoint's `on_commit` callbacks and empties the list at commit or rollback, so a bump
    counts only while its marker is where it was put."""
    if not connection.in_atomic_block:
        return False
    found = getattr(_done, "bumps", {}).get(name)
    if found is None:
        return False
    marker, index = found
    waiting = connection.run_on_commit
    return index < len(waiting) and waiting[index][1] is marker


def _remember(connection, names: Iterable) -> None:
    if not connection.in_atomic_block:
        return  # autocommit: the bump is committed already, and the next write bumps again
    bumps = getattr(_done, "bumps", None)
    if bumps is None or not connection.run_on_commit:
        bumps = _done.bumps = {}  # nothing of an earlier transaction is still valid
    marker = partial(_marker)  # a new object each time: it stands for this bump only
    index = len(connection.run_on_commit)
    transaction.on_commit(marker)
    for name in names:
        bumps[name] = (marker, index)


def read_here() -> None:
    """Say that a result was just read or computed on this connection. If that happened
    inside a transaction that has raised revisions, it saw their new numbers before commit:
    later writes in the same transaction must raise them again, or the result would be kept
    under a number that also stands for those later writes."""
    _done.bumps = {}


def _upsert(connection, rows_sql: str, params: list) -> None:
    quote = connection.ops.quote_name
    table, key_column, number = (
        quote(Revision._meta.db_table),
        quote("key"),
        quote("number"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_column}, {number}) {rows_sql} "
            f"ON CONFLICT ({key_column}) DO UPDATE SET {number} = {table}.{number} + 1",
            params,
        )


def bump(*keys: str) -> None:
    """Raise each key's number by one, in the current transaction: one statement that
    creates a missing row or raises an existing one, locking it until commit, so two
    writers, even creating the first row at once, each add one. Keys already raised earlier
    in the same transaction, with no result read on this connection since, are left alone:
    that bump already covers this change."""
    connection = transaction.get_connection()
    wanted = sorted({k for k in keys if not _already(connection, k)})  # one lock order
    if not wanted:
        return
    values = ", ".join(["(%s, 1)"] * len(wanted))
    _upsert(connection, f"VALUES {values}", wanted)
    _remember(connection, wanted)


def _bump_through(kind: str, model, pk, path: str) -> None:
    """Raise `kind:<owner>` where the owner is found from row `pk` of `model` along `path`,
    in the same one statement, for a row whose owner is not at hand."""
    connection = transaction.get_connection()
    name = (kind, model._meta.label, pk)
    if _already(connection, name):
        return
    owners = (
        model._base_manager.filter(pk=pk)
        .annotate(revision_key=_key_in_sql(kind, path))
        .values("revision_key")
    )
    sql, params = owners.query.sql_with_params()
    # SQLite needs the WHERE to read ON CONFLICT as the upsert rather than as part of a join.
    rows = f"SELECT DISTINCT revision_key, 1 FROM ({sql}) owners WHERE revision_key IS NOT NULL"
    _upsert(connection, rows, list(params))
    _remember(connection, [name])


# --- Following the models behind a result ------------------------------------------------------


@dataclass(frozen=True)
class _Followed:
    """A model whose rows a result of `kind` is made from, and the foreign keys from it to
    the object the revision belongs to (its owner)."""

    kind: str
    chain: tuple  # the foreign key fields, from the model's own to the one naming the owner

    def bump_for(self, instance, *, first=None) -> None:
        """Raise the revision of the owner of `instance`, or, given `first`, of the owner
        reached through that value of its first foreign key (where a moved row was). From
        related rows already loaded where they are; otherwise found in SQL by the bump."""
        if first is None:
            row = instance
            for field in self.chain[:-1]:
                row = field.get_cached_value(row, default=None)
                if row is None:
                    break
            else:
                owner = getattr(row, self.chain[-1].attname)
                if owner is not None:
                    bump(key(self.kind, owner))
                return
            first = getattr(instance, self.chain[0].attname)
        elif len(self.chain) == 1:
            bump(key(self.kind, first))
            return
        if first is not None:
            path = "__".join(field.name for field in self.chain[1:])
            _bump_through(self.kind, self.chain[0].related_model, first, path)


_followed: dict[type, list[_Followed]] = {}
# Per kind: the models whose deletion, cascading to followed rows, raises the revision
# itself (a followed row) or leaves nothing to show (the owner, and what deletes the owner).
_cascades: dict[str, set[type]] = {}


def follow(model, kind: str, owner: str) -> None:
    """Raise `kind:<owner's pk>` whenever a row of `model` is created, changed, moved to
    another owner, deleted, or its many-to-many fields change. `owner` names the foreign
    keys from the model to the owner, such as "survey" or "response__survey".

    A row deleted by a cascade from another followed row, from its owner or from whatever
    deletes its owner raises nothing itself: the row deleted first raises the revision once,
    or there is no longer anything to show."""
    chain, current = [], model
    for name in owner.split("__"):
        field = current._meta.get_field(name)
        chain.append(field)
        current = field.related_model
    _followed.setdefault(model, []).append(_Followed(kind, tuple(chain)))
    cascades = _cascades.setdefault(kind, set())
    cascades.add(model)
    cascades |= _deleting(current)
    uid = f"revisions:{model._meta.label}"
    pre_save.connect(_note_move, sender=model, dispatch_uid=uid)
    post_save.connect(_saved, sender=model, dispatch_uid=uid)
    post_delete.connect(_deleted, sender=model, dispatch_uid=uid)
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        m2m_changed.connect(
            _m2m_changed, sender=through, dispatch_uid=f"revisions:{through._meta.label}"
        )


def updated(model, **owner_key) -> None:
    """For a write to rows of `model` that sends no signals (`QuerySet.update()`): raise every
    revision that follows `model` for the rows whose first followed foreign key, named with
    its value (`updated(Registration, session=session)`), points there."""
    [(name, value)] = owner_key.items()
    value = getattr(value, "pk", value)
    for spec in _followed.get(model, []):
        if spec.chain[0].name != name:
            raise ValueError(f"{model.__name__} is followed through {spec.chain[0].name}.")
        spec.bump_for(None, first=value)


def _deleting(model) -> set[type]:
    """The model and every model whose deletion deletes its rows by cascade."""
    found, todo = set(), [model]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += [
                field.related_model
                for field in current._meta.concrete_fields
                if field.many_to_one and field.remote_field.on_delete is models.CASCADE
            ]
    return found


def _note_move(sender, instance, update_fields=None, **kwargs) -> None:
    """Before an existing row is saved with an owner's foreign key among the fields written,
    note where that key pointed, so that a row moved to another owner raises both."""
    if instance.pk is None or instance._state.adding:
        return
    fields = {spec.chain[0] for spec in _followed[sender]}
    if update_fields is not None:
        fields = {f for f in fields if f.name in update_fields or f.attname in update_fields}
    if not fields:
        return
    attnames = sorted(field.attname for field in fields)
    stored = sender._base_manager.filter(pk=instance.pk).values(*attnames).first() or {}
    instance._revisions_moved_from = {
        name: value for name, value in stored.items() if getattr(instance, name) != value
    }


def _saved(sender, instance, **kwargs) -> None:
    moved = instance.__dict__.pop("_revisions_moved_from", {})
    for spec in _followed[sender]:
        spec.bump_for(instance)
        if moved.get(spec.chain[0].attname) is not None:
            spec.bump_for(instance, first=moved[spec.chain[0].attname])


def _deleted(sender, instance, origin=None, **kwargs) -> None:
    origin_model = origin.model if isinstance(origin, models.QuerySet) else type(origin)
    for spec in _followed[sender]:
        if origin is not None and origin_model is not sender:
            if origin_model._meta.concrete_model in _cascades[spec.kind]:
                continue
        spec.bump_for(instance)


def _m2m_changed(sender, instance, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        for spec in _followed.get(type(instance), []):
            spec.bump_for(instance)


# --- People leaving ----------------------------------------------------------------------------

# Raised when anyone is deactivated, reactivated, erased, deleted or renamed: results that
# count people with an account (who contributed, say) leave out those who are inactive or
# erased, and results that name people (who decided, who commented) show their names as
# they are now, so they are kept under this revision as well as their own.
PEOPLE = key("people", "site")
_PERSON_FIELDS = ("is_active", "erased_at", "name", "email")


def _note_person(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not set(_PERSON_FIELDS) & set(update_fields):
        return  # signing in writes last_login only
    stored = sender._base_manager.filter(pk=instance.pk).values_list(*_PERSON_FIELDS).first()
    if stored is not None and stored != tuple(getattr(instance, f) for f in _PERSON_FIELDS):
        instance._revisions_person_changed = True


def _person_saved(sender, instance, **kwargs) -> None:
    if instance.__dict__.pop("_revisions_person_changed", False):
        bump(PEOPLE)


def _person_deleted(sender, instance, **kwargs) -> None:
    bump(PEOPLE)  # their rows elsewhere lose their author without a signal of their own


def follow_people(user_model) -> None:
    """Raise `PEOPLE` whenever a person's account is deactivated, reactivated, erased or
    deleted, or their name or email address (which shows where there is no name) changes."""
    pre_save.connect(_note_person, sender=user_model, dispatch_uid="revisions:people")
    post_save.connect(_person_saved, sender=user_model, dispatch_uid="revisions:people")
    post_delete.connect(_person_deleted, sender=user_model, dispatch_uid="revisions:people")
