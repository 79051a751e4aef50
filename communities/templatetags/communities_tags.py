from django import template

from communities.models import Membership

register = template.Library()

SHOWN = [Membership.Status.ACTIVE, Membership.Status.REQUESTED, Membership.Status.INVITED]


@register.simple_tag
def memberships_of(user):
    """The communities a person is in, has asked to join, or is invited to, for /me/."""
    return list(
        Membership.objects.filter(user=user, status__in=SHOWN)
        .select_related("community")
        .order_by("community__name")
    )
