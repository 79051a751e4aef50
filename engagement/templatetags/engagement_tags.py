from django import template

from engagement import kept

register = template.Library()


@register.simple_tag
def upcoming_sessions(community, count=kept.COMING_UP):
    """The next few published sessions, for the community's own page."""
    return kept.coming_up(community, count)
