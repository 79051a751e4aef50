"""Who may see and do what in a community, and who coordinates it. Each app keeps its own
rules the same way, in its own access.py (engagement.access, improvement.access)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from communities.models import Community, Membership


def get_membership(user, community: Community) -> Membership | None:
    if not user.is_authenticated:
        return None
    # The few pages that show the person's perspectives or ways of taking part load them.
    # One row at most, read without an order (first() would sort by the model's order,
    # joining the community and the person to sort one row).
    try:
        membership = Membership.objects.get(community_id=community.pk, user_id=user.pk)
    except Membership.DoesNotExist:
        return None
    membership.community = community  # already loaded: save a query
    return membership


NOT_LOADED = object()


def may_coordinate(user, community: Community, membership=NOT_LOADED) -> bool:
    """Coordinators of this community, and site staff, run it. A view that has already
    loaded the person's membership passes it, to save a query."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if membership is not NOT_LOADED:
        return membership is not None and membership.is_coordinator
    return Membership.objects.coordinators().filter(community=community, user=user).exists()


def coordinator_required(view):
    """The view gets `community` instead of `slug`; others get 403, visitors the login page.
    An archived community is read-only: its coordinators can look but not change anything."""

    @login_required
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        community = get_object_or_404(Community, slug=slug)
        if not may_coordinate(request.user, community):
            raise PermissionDenied
        if request.method == "POST" and community.is_archived:
            messages.error(
                request,
                _("This community is archived, so nothing in it can be changed. Site staff can "
                  "bring it back if it is needed again."),
            )  # fmt: skip
            return redirect("communities:manage", slug=community.slug)
        return view(request, community, *args, **kwargs)

    return wrapper
