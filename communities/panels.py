"""Panels other apps add to community pages, so `communities` shows what a higher app knows
without importing it (the import rule in STYLE.md). An app registers from its `ready()`:

    register_panel("dashboard", "improvement/panels/loop_dashboard.html", loop.dashboard_panel)

`where` is "dashboard" (the coordinators' dashboard) or "community" (the public page). The
function gets the community and returns the template's context; it should cost a fixed
number of queries.

`where` "person" is a panel on the community page about the person looking: what they may
use or are asked to do there. Its function gets (community, user, membership) and returns
the context, or nothing when there is nothing for this person (then no panel is shown).
"""

from collections.abc import Callable
from dataclasses import dataclass

PLACES = ("dashboard", "community", "person")


@dataclass(frozen=True)
class Panel:
    where: str
    template: str
    context: Callable


_panels: list[Panel] = []


def register_panel(where: str, template: str, context: Callable) -> None:
    if where not in PLACES:
        raise ValueError(f"Panels go on one of {PLACES}, not {where!r}.")
    panel = Panel(where, template, context)
    if panel not in _panels:
        _panels.append(panel)


def panels(where: str, community) -> list[tuple[str, dict]]:
    """(template, context) for each panel registered for this place."""
    return [(p.template, p.context(community)) for p in _panels if p.where == where]


def person_panels(community, user, membership) -> list[tuple[str, dict]]:
    """(template, context) for each "person" panel with something for this person."""
    found = []
    for panel in _panels:
        if panel.where == "person":
            context = panel.context(community, user, membership)
            if context:
                found.append((panel.template, context))
    return found
