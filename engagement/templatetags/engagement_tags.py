from django import template

from engagement.models import Session

register = template.Library()


@register.simple_tag
def upcoming_sessions(community, count=3):
    """The next few published sessions, for the community's own page."""
    sessions = list(
        Session.objects.filter(community=community, status=Session.Status.PUBLISHED)
        .upcoming()
        .select_related("venue")[:count]
    )
    for session in sessions:
        session.community = community  # each link needs its slug: no query per session
    return sessions
