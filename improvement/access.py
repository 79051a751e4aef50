"""Who may do what with ideas, projects and their parts: each rule of this app, once.

Like engagement.access: small functions of the person and the thing (and their membership,
when the caller has it loaded), used by services to refuse and by views to pass booleans.
"""

from django.utils import timezone

from communities.access import NOT_LOADED, get_membership, may_change, may_coordinate
from communities.models import Community
from engagement.access import is_partner
from improvement.models import (
    COMMENT_EDIT_WINDOW,
    PrioritisationRound,
    Project,
    Score,
    TeamMember,
)
from members.models import User


def may_take_part(user: User, community: Community, membership=NOT_LOADED) -> bool:
    """Members who have agreed the current ground rules take part; coordinators and site
    staff always may. Pass the person's membership if it is loaded already."""
    if not user.is_authenticated:
        return False
    if membership is NOT_LOADED:
        membership = get_membership(user, community)
    if membership is not None and membership.is_active and not membership.needs_to_agree_rules:
        return True
    return may_coordinate(user, community, membership)


def may_enter_on_behalf(user: User, community: Community, membership=NOT_LOADED) -> bool:
    """Coordinators and the community's partners type in ideas from paper and sessions."""
    if not user.is_authenticated:
        return False
    if membership is NOT_LOADED:
        membership = get_membership(user, community)
    return is_partner(membership) or may_coordinate(user, community, membership)


def may_edit_comment(user, comment, now=None) -> bool:
    """A comment's author may change it for a short while after posting (to fix a slip,
    not to rewrite a discussion others have answered), and not once it is hidden."""
    now = now or timezone.now()
    return (
        user.is_authenticated
        and comment.author_id == user.pk
        and not comment.is_hidden
        and now - comment.created_at <= COMMENT_EDIT_WINDOW
    )


def may_edit_project(user: User, project: Project, membership=NOT_LOADED) -> bool:
    """The project's team edits it (while they are active members); coordinators manage it."""
    if not user.is_authenticated:
        return False
    if membership is NOT_LOADED:
        membership = get_membership(user, project.community)
    if may_coordinate(user, project.community, membership):
        return True
    return (
        membership is not None and membership.is_active and project.team.filter(user=user).exists()
    )


def may_choose_team(user, project, membership=NOT_LOADED) -> bool:
    """The project's lead and the community's coordinators choose its team."""
    if not user.is_authenticated:
        return False
    if membership is NOT_LOADED:
        membership = get_membership(user, project.community)
    if may_coordinate(user, project.community, membership):
        return True
    return project.team.filter(user=user, role=TeamMember.Role.LEAD).exists()


def rounds_waiting_for(user, community=None) -> list:
    """Open prioritisation rounds this person is invited to score (in one community, or in
    all), each with `started` (they have saved some scores). One query of the few columns
    the lists show when there are none, as there mostly are; a second for `started` when
    there are some (cheaper to build than one query with a subquery)."""
    if not user.is_authenticated:
        return []
    rounds = PrioritisationRound.objects.filter(
        status=PrioritisationRound.Status.OPEN, scorers__user=user
    ).order_by("opened_at", "pk")
    if community is None:
        found = list(
            rounds.select_related("community").only("title", "community__slug", "community__name")[
                :20
            ]
        )
    else:
        found = list(rounds.filter(community=community).only("title", "community_id")[:20])
        for round_ in found:
            round_.community = community  # its address needs the slug: no query each
    if found:
        started = set(
            Score.objects.filter(
                scorer__user=user, scorer__round__in=[round_.pk for round_ in found]
            )
            .order_by()
            .values_list("scorer__round_id", flat=True)
            .distinct()
        )
        for round_ in found:
            round_.started = round_.pk in started
    return found


def community_links(community, user, membership) -> dict | None:
    """What the community page offers this person from this app: entering ideas from paper,
    for a partner (coordinators have the whole of Manage), and rounds waiting for their
    scores."""
    paper = may_enter_on_behalf(user, community, membership) and not may_coordinate(
        user, community, membership
    )
    rounds = rounds_waiting_for(user, community)
    if not (paper or rounds):
        return None
    return {"community": community, "paper": paper, "rounds": rounds}


def my_rounds(user) -> dict | None:
    """For the person's own page: rounds waiting for their scores, in every community."""
    rounds = rounds_waiting_for(user)
    return {"rounds": rounds} if rounds else None


def may_add_idea(user: User, community: Community, membership=NOT_LOADED) -> bool:
    """Whether the ideas page offers "Add an idea": to active members (the form asks a new
    member to agree the ground rules first), while the community is not archived."""
    if not user.is_authenticated or not may_change(community):
        return False
    if membership is NOT_LOADED:
        membership = get_membership(user, community)
    return membership is not None and membership.is_active


def may_add_idea_for_someone(user: User, community: Community, membership=NOT_LOADED) -> bool:
    """Whether "Add an idea for someone else" is offered: not in an archived community."""
    return may_change(community) and may_enter_on_behalf(user, community, membership)


def may_join_in(user: User, community: Community, membership=NOT_LOADED) -> bool:
    """Whether an idea's page offers support, comments and reports: to those who take part,
    while the community is not archived."""
    return may_change(community) and may_take_part(user, community, membership)


def may_change_project(user: User, project: Project, membership=NOT_LOADED) -> bool:
    """Whether a project's page offers its changes: to its editors, while the community is
    not archived."""
    return may_change(project.community) and may_edit_project(user, project, membership)


def may_start_project(user: User, community, membership=NOT_LOADED) -> bool:
    """Whether "Start a project" is offered: to those who take part, while the community is
    not archived."""
    return may_change(community) and may_take_part(user, community, membership)


def may_see_names(user: User, community: Community, membership=NOT_LOADED) -> bool:
    """Names are for the community: its active members (and site staff) see who wrote an
    idea or a comment; visitors from outside read "a member"."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if membership is NOT_LOADED:
        membership = get_membership(user, community)
    return membership is not None and membership.is_active
