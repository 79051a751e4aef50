"""`ChoiceLabels` gives every choice the label Django's own get_FOO_display() gives it,
and translates only that label."""

import pytest
from django.apps import apps
from django.db.models import Model
from django.utils import translation

from members.choices import ChoiceLabels


def models_with_labels():
    return [m for m in apps.get_models() if issubclass(m, ChoiceLabels)]


def test_the_main_models_use_it():
    names = {m.__name__ for m in models_with_labels()}
    assert {"Membership", "Session", "Idea", "Project", "Claim", "Update", "Survey"} <= names


@pytest.mark.parametrize("language", ["en-gb", "cy"])
def test_every_choice_has_the_label_django_gives_it(language):
    checked = 0
    with translation.override(language):
        for model in models_with_labels():
            for field in model._meta.concrete_fields:
                if not field.choices:
                    continue
                display = getattr(model, f"get_{field.name}_display")
                for value, label in field.flatchoices:
                    row = model(**{field.attname: value})
                    assert display(row) == str(label)
                    # Django's own, from the models' common base class.
                    assert display(row) == Model._get_FIELD_display(row, field)
                    checked += 1
                row = model(**{field.attname: "not-a-choice"})
                assert display(row) == "not-a-choice"
    assert checked > 50
