"""Results that are costly to compute and depend only on the data, kept under a version key.

A version is made of the revision of the rows the result is built from (`members.revisions`:
a number every write to those rows raises in its own transaction), read before the rows
themselves, and whatever else the result depends on (the language, the day). The result is
kept under (name, version), so a change in the data is a new key and an old result is never
served; nothing expires by time.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import caches

from members import revisions


def version_of(*parts: Iterable[Any] | Any) -> str:
    """A stable string from the parts that make a version (revision numbers, ids, language)."""
    return ":".join(str(part) for part in parts)


def computed(name: str, version: str, compute: Callable[[], Any]) -> Any:
    """The result named `name` for this version of its data, computing it only if this
    process has not kept it yet."""
    revisions.read_here()
    cache = caches["computed"]
    key = f"{name}:{version}"
    missing = object()
    value = cache.get(key, missing)
    if value is missing:
        value = compute()
        cache.set(key, value)
    return value
