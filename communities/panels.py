"""Panels other apps add to community pages, so `communities` shows what a higher app knows
without importing it (the import rule in STYLE.md). An app registers from its `ready()`:

    register_panel("dashboard", "improvement/panels/loop_dashboard.html", loop.dashboard_panel)

`where` is "dashboard" (the coordinators' dashboard) or "community" (the public page). The
function gets the community (and, on the dashboard, the person looking, since what waits
for a coordinator can depend on who they are) and returns the template's context; it
should cost a fixed number of queries.

`where` "person" is a panel on the community page about the person looking: what they may
use or are asked to do there. Its function gets (community, user, membership) and returns
the context, or nothing when there is nothing for this person (then no panel is shown).

`revisions` names the kinds of revision (`members.revisions`) a panel's function reads for
the community: the page reads every panel's numbers in one query (`revision_keys()` with
`revisions.prefetched()`) instead of one query per panel.
"""

from collections.abc import Callable
from dataclasses import dataclass

from members import revisions

PLACES = ("dashboard", "community", "person")


@dataclass(frozen=True)
class Panel:
    where: str
    template: str
    context: Callable
    revisions: tuple[str, ...] = ()


_panels: list[Panel] = []


def register_panel(
    where: str, template: str, context: Callable, *, revisions: tuple[str, ...] = ()
) -> None:
    if where not in PLACES:
        raise ValueError(f"Panels go on one of {PLACES}, not {where!r}.")
    panel = Panel(where, template, context, tuple(revisions))
    if panel not in _panels:
        _panels.append(panel)


_page_revisions: dict[str, set[str]] = {}


def register_revisions(where: str, *kinds: str) -> None:
    """Revisions read on a page for the community other than through a panel's function
    (a template tag's kept list), to be read with the panels' in one query."""
    _page_revisions.setdefault(where, set()).update(kinds)


def revision_keys(community, *places: str) -> list[str]:
    """The revision keys that the panels of these places (and what registered for them with
    `register_revisions`) read for this community, for `revisions.prefetched()`."""
    kinds = {kind for p in _panels if p.where in places for kind in p.revisions}
    for where in places:
        kinds |= _page_revisions.get(where, set())
    return [revisions.key(kind, community.pk) for kind in sorted(kinds)]


def panels(where: str, community, user=None) -> list[tuple[str, dict]]:
    """(template, context) for each panel registered for this place; a dashboard panel is
    told who is looking (`user`)."""
    more = (user,) if where == "dashboard" else ()
    return [(p.template, p.context(community, *more)) for p in _panels if p.where == where]


def person_panels(community, user, membership) -> list[tuple[str, dict]]:
    """(template, context) for each "person" panel with something for this person."""
    found = []
    for panel in _panels:
        if panel.where == "person":
            context = panel.context(community, user, membership)
            if context:
                found.append((panel.template, context))
    return found
