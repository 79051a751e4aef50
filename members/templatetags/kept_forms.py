"""`{{ form|kept_form:"app-name" }}`: a form's fields as `{{ form|crispy }}` renders them,
rendered once per content and kept (`members.rendering.render_form`);
`{{ form|kept_fields:"app-name:field,other" }}` the same for the fields named, each as
`|as_crispy_field` renders it. For forms whose HTML
depends only on what they hold (their values, errors and choices), never on the person
looking: not for a form filled with the person's own answers or details."""

from django import template

from members.rendering import render_fields, render_form

register = template.Library()


@register.filter
def kept_form(form, name: str):
    return render_form(form, name=name)


@register.filter
def kept_fields(form, spec: str):
    name, fields = spec.split(":")
    return render_fields(form, fields.split(","), name=name)
