"""A form rendered once and kept: the same HTML as `{{ form|crispy }}`, for every different
content a new key, and a model choice field's choices read once."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.utils import translation

from members.models import User
from members.rendering import form_key, render_form
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


class FindForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=10)
    order = forms.ChoiceField(choices=[("new", "Newest"), ("old", "Oldest")], required=False)
    person = forms.ModelChoiceField(queryset=User.objects.order_by("email"), required=False)


@pytest.fixture
def person(db):
    return make_person("ann@example.org", name="Ann")


def test_it_renders_what_the_crispy_filter_renders(person):
    for data in (None, {"q": "clinic", "order": "old", "person": str(person.pk)}, {"q": "x" * 11}):
        expected = as_crispy_form(FindForm(data))
        assert render_form(FindForm(data), name="test-find") == expected


def test_the_errors_of_bad_input_are_rendered_and_kept_apart(person):
    bad = render_form(FindForm({"q": "x" * 11}), name="test-find")
    assert "Ensure this value has at most 10 characters" in bad
    good = render_form(FindForm({"q": "x" * 10}), name="test-find")
    assert "Ensure this value" not in good


def test_a_model_choice_field_reads_its_choices_once(person, django_assert_num_queries):
    # Rendered for the first time, and then taken from the cache: the people are read once
    # each time, for the key, and not again for the render.
    for _ in range(2):
        with django_assert_num_queries(1):
            html = render_form(FindForm(), name="test-find")
        assert f'<option value="{person.pk}">Ann</option>' in html


def test_what_was_typed_and_the_choices_as_they_are_now_make_the_key(person):
    first = render_form(FindForm({"q": "clinic"}), name="test-find")
    assert 'value="clinic"' in first
    other = render_form(FindForm({"q": "surgery"}), name="test-find")
    assert 'value="surgery"' in other
    assert 'value="clinic"' not in other

    User.objects.filter(pk=person.pk).update(name="Annie")
    make_person("bo@example.org", name="Bo")
    renamed = render_form(FindForm({"q": "clinic"}), name="test-find")
    assert ">Annie<" in renamed
    assert ">Bo<" in renamed
    assert ">Ann<" not in renamed


def test_the_language_and_the_name_are_part_of_the_key(db):
    form = FindForm()
    key = form_key(form, name="test-find")
    assert form_key(form, name="test-find") == key
    assert form_key(form, name="test-other") != key
    with translation.override("fr"):
        assert form_key(form, name="test-find") != key


class SizeForm(forms.Form):
    size = forms.ChoiceField(choices=[("s", "Small")])

    def __init__(self, *args, sizes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sizes is not None:
            self.fields["size"].choices = sizes


def test_choices_given_to_one_form_are_part_of_the_key(db):
    declared = render_form(SizeForm(), name="test-sizes")
    medium = render_form(SizeForm(sizes=[("s", "Small"), ("m", "Medium")]), name="test-sizes")
    large = render_form(SizeForm(sizes=[("s", "Small"), ("l", "Large")]), name="test-sizes")
    assert ">Small<" in declared
    assert "Medium" not in declared
    assert "Medium" in medium
    assert "Large" not in medium
    assert "Large" in large
    assert "Medium" not in large


def test_the_template_filter_renders_the_kept_form(person):
    from django.template import Context, Template

    template = Template('{% load kept_forms %}{{ form|kept_form:"test-find" }}')
    for data in (None, {"q": "clinic", "order": "old"}, {"q": "x" * 11}):
        shown = template.render(Context({"form": FindForm(data)}))
        assert shown == as_crispy_form(FindForm(data))
