"""Who may see and do what in a community, and who coordinates it. Each app keeps its own
rules the same way, in its own access.py (engagement.access, improvement.access)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
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


class ArchivedError(ValidationError):
    """A change refused because the community is archived. Its own type, so a view can tell
    this refusal from any other and every app says it in the same words."""


def archived_message() -> str:
    return _("This community is archived, so nothing in it can be changed.")


def may_change(community: Community) -> bool:
    """An archived community is read-only, for everyone (site staff bring it back first)."""
    return not community.is_archived


def changeable(queryset, path: str = "community"):
    """`may_change` as a filter, for work that runs over many communities at once (beat's
    sweeps): the rows of `queryset` whose community (reached along `path`, or the rows
    themselves when `path` is empty) may change."""
    field = f"{path}__status" if path else "status"
    return queryset.exclude(**{field: Community.Status.ARCHIVED})


def refuse_if_archived(community: Community) -> None:
    """Every write service in every app calls this before it changes anything."""
    if not may_change(community):
        raise ArchivedError(archived_message())


def refused_as_archived(request, community: Community, then):
    """The decorators' one archived branch: a POST to an archived community goes back to
    `then` (a URL name with its arguments, or an object) with the message, and changes
    nothing. Returns None when the request may go on."""
    if request.method != "POST" or may_change(community):
        return None
    messages.error(request, archived_message())
    return redirect(*then) if isinstance(then, tuple) else redirect(then)


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
        refused = refused_as_archived(
            request, community, ("communities:manage_dashboard", community.slug)
        )
        if refused:
            return refused
        return view(request, community, *args, **kwargs)

    return wrapper
