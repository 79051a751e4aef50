"""Choosing among many: a choice field that lists a bounded few of its queryset.

A community's tens of thousands of ideas, or thousands of sessions, cannot be listed as
checkboxes or options: a page that does grows with the community. `offer_few` lists what is
chosen already and up to OFFERED others, and the field still accepts any row of its queryset.

Others are found by words (`find`), from a search box inside the form that lists them
(`improvement/includes/find_ideas.html`): its Find button posts the form, and the view
shows the form again, unsaved, with everything typed into it kept (`finding`, `typed`).
"""

OFFERED = 60


def offer_few(form, name: str, *, ranked, find: str = "", search=None) -> None:
    """List, for the choice field `name`, what is chosen already and up to OFFERED others:
    those matching the words looked for (`find`, through `search`), or else the first of
    `ranked`. A community's tens of thousands of ideas (or thousands of sessions) are never
    all listed, yet any of the field's queryset is still accepted: only the list is bounded.
    Lists are read as the few objects shown."""
    field = form.fields[name]
    value = form[name].value()
    values = value if isinstance(value, list | tuple) else [value]
    chosen = set()
    for item in values:
        try:
            chosen.add(int(item))
        except (TypeError, ValueError):
            continue
    base = field.queryset
    others = base.exclude(pk__in=chosen)
    others = search(others, find) if find and search else ranked(others)
    shown = [*(base.filter(pk__in=chosen) if chosen else ()), *others[:OFFERED]]
    field.choices = [
        *([("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []),
        *((thing.pk, field.label_from_instance(thing)) for thing in shown),
    ]
    field.offered = len(shown) - len(chosen)
    field.found_for = find


# The search box's words, the words the list on the page was found with, and its button.
FIND, FOUND, FINDING = "find", "found_for", "finding"


def words_to_find(request) -> str:
    """The words to find other choices by: from the form's search box when it is posted,
    or from the address (`?find=`)."""
    source = request.POST if request.method == "POST" else request.GET
    return source.get(FIND, "").strip()[:100]


def finding(request) -> bool:
    """Whether a posted form asks for other choices to be listed rather than to be saved:
    its Find button was pressed, or Enter was pressed with words in the search box other
    than those the list was found with."""
    if request.method != "POST":
        return False
    return FINDING in request.POST or words_to_find(request) != request.POST.get(FOUND, "")


def typed(form) -> dict:
    """What was typed into a bound form, as initial values: the same form made again
    unbound with them shows everything as it was typed, and no errors."""
    return {name: form[name].value() for name in form.fields}
