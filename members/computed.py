"""Results that are costly to compute and depend only on the data, kept under a version key.

A version is made of the revision of the rows the result is built from (`members.revisions`:
a number every write to those rows raises in its own transaction), read before the rows
themselves, and whatever else the result depends on (the language, the day). The result is
kept under (name, version), so a change in the data is a new key and an old result is never
served; nothing expires by time.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.cache import caches
from django.utils import timezone

from members import revisions


def version_of(*parts: Iterable[Any] | Any) -> str:
    """A stable string from the parts that make a version (revision numbers, ids, language)."""
    return ":".join(str(part) for part in parts)


def computed(
    name: str,
    version: str,
    compute: Callable[[], Any],
    *,
    until: Callable[[Any], datetime | None] | None = None,
) -> Any:
    """The result named `name` for this version of its data, computing it only if this
    process has not kept it yet.

    `until` is for a result that the clock changes as well as the data (the sessions still
    to come, the surveys open now): given the result, it says when the result stops being
    true (a session's end, a survey's closing), or None for never. The data says when, so
    a kept result is never served past it."""
    revisions.read_here()
    cache = caches["computed"]
    key = f"{name}:{version}"
    missing = object()
    kept = cache.get(key, missing)
    if kept is not missing and until is not None:
        value, ends = kept
        if ends is None or timezone.now() < ends:
            return value
    elif kept is not missing:
        return kept
    value = compute()
    cache.set(key, (value, until(value)) if until is not None else value)
    return value
