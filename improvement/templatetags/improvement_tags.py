from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def score(value) -> str:
    """A mean score to one decimal place, or a dash where nobody scored."""
    if value is None:
        return _("not scored")
    return number_format(value, decimal_pos=1)
