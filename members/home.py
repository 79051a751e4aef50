"""Panels other apps add to a person's own page (/me/), so `members` shows what a higher app
asks of the person without importing it (the import rule in STYLE.md). An app registers
from its `ready()`:

    register(template, context)

`context` gets the person and returns the template's context, or nothing when there is
nothing for them (then no panel is shown). It should cost a fixed number of queries.
"""

from collections.abc import Callable

_panels: list[tuple[str, Callable]] = []


def register(template: str, context: Callable) -> None:
    if (template, context) not in _panels:
        _panels.append((template, context))


def panels(user) -> list[tuple[str, dict]]:
    found = []
    for template, context_of in _panels:
        context = context_of(user)
        if context:
            found.append((template, context))
    return found
