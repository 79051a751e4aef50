"""Forms rendered once and kept, for forms that look the same to everyone given the same data.

Rendering a form through crispy-forms renders a template for every field, every widget and
every <option>: a filter form of five fields costs several milliseconds each time. A form
whose HTML depends only on what was typed into it, its choices and the language (a filter
form is the usual case) is rendered once per process and kept in the computed cache.

The key is made of everything the HTML is made from: the form's name and class, whether it
is bound, each field's value as the widget shows it, its errors, the choices of every choice
field that were not declared with the class (a theme renamed or added is a new key) and the
language. So a kept form is never stale and never expires by time. The form's labels, help
texts, declared choices and layout belong to the code, which is the same for the life of a
process.

Use it only for forms without per-person content: no CSRF token (`{{ form|crispy }}` renders
no <form> tag, so there is none), no initial values drawn from the person. Example::

    "filter_form": render_form(form, name="improvement-idea-filter")

and in the template ``{{ filter_form }}`` where ``{{ form|crispy }}`` was.
"""

import hashlib

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms
from django.core.cache import caches
from django.utils.safestring import SafeString
from django.utils.translation import get_language


def _choices(field: forms.ChoiceField, declared: forms.Field | None) -> list | str:
    """The field's choices as text, for the key. Choices read from the database (a model
    choice field) or from a callable are read once and kept on the field for the render that
    may follow. (Read through iter(): list() would first ask a model choice field to count
    them.) Choices declared with the form's class are code, translated by the language that
    is in the key: they are not translated again just to be digested."""
    choices = field.choices
    if not isinstance(choices, list):
        choices = list(iter(choices))
        field.choices = choices
    # A form's fields are deep copies of its class's, which keep each choice's very object.
    kept = getattr(declared, "_choices", None)
    if isinstance(kept, list) and len(kept) == len(choices):
        if all(mine is theirs for mine, theirs in zip(choices, kept, strict=True)):
            return "declared"
    return [
        (str(value), [(str(v), str(label)) for v, label in label_or_group])
        if isinstance(label_or_group, list | tuple)
        else (str(value), str(label_or_group))
        for value, label_or_group in choices
    ]


def form_key(form: forms.BaseForm, *, name: str) -> str:
    """The cache key of the form's HTML: a digest of everything the HTML is made from."""
    parts = [
        name,
        type(form).__module__,
        type(form).__qualname__,
        form.prefix,
        form.is_bound,
        get_language(),
        form.errors.get_json_data() if form.is_bound else None,
    ]
    for field_name, field in form.fields.items():
        parts.append((field_name, form[field_name].value()))
        if isinstance(field, forms.ChoiceField):
            parts.append(_choices(field, form.base_fields.get(field_name)))
    digest = hashlib.md5(repr(parts).encode(), usedforsecurity=False).hexdigest()
    return f"form:{name}:{digest}"


def render_form(form: forms.BaseForm, *, name: str) -> SafeString:
    """The form's fields as `{{ form|crispy }}` renders them, rendered once for each
    different content and then taken from the computed cache. `name` says which form this
    is, prefixed with its app ("improvement-idea-filter")."""
    cache = caches["computed"]
    key = form_key(form, name=name)
    html = cache.get(key)
    if html is None:
        html = as_crispy_form(form)
        cache.set(key, html)
    return html


def render_fields(form: forms.BaseForm, fields: list[str], *, name: str) -> SafeString:
    """Some of the form's fields, each as `{{ field|as_crispy_field }}` renders it, kept as
    `render_form` keeps a whole form (the key is the whole form's, with the fields named)."""
    cache = caches["computed"]
    key = f"{form_key(form, name=name)}:{','.join(fields)}"
    html = cache.get(key)
    if html is None:
        html = SafeString("".join(as_crispy_field(form[field]) for field in fields))
        cache.set(key, html)
    return html
