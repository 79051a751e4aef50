"""Choosing among many: a choice field that lists a bounded few of its queryset.

A community's tens of thousands of ideas, or thousands of sessions, cannot be listed as
checkboxes or options: a page that does grows with the community. `offer_few` lists what is
chosen already and up to OFFERED others, and the field still accepts any row of its queryset.
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
