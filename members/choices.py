"""Labels of choices, as `get_FOO_display()` gives them, without translating every label.

Django's `get_FOO_display()` makes a dictionary of all the field's choices on every call,
hashing (so translating) each lazy label to find one: a list of 25 rows showing a status and
a kind translates a few hundred labels. A model that inherits `ChoiceLabels` (every
`members.status.StatusModel` does) finds the value's label by comparing values and
translates only that one. The result is the same.
"""

from django.utils.encoding import force_str


class ChoiceLabels:
    def _get_FIELD_display(self, field):  # noqa: N802 (Django's name, overridden)
        value = getattr(self, field.attname)
        for choice, label in field.flatchoices:
            if choice == value:
                return force_str(label, strings_only=True)
        return force_str(value, strings_only=True)
