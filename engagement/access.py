"""Who may do what with sessions, surveys and claims: each rule of this app, once.

Each `may_*` is a small function of the person and the thing (and their membership, when
the caller has it loaded: then it asks the database nothing). Services refuse with them,
views pass their answers to templates as booleans, and alerts go to the people they allow.
"""

from django.db.models import Q
from django.utils import timezone

from communities.access import NOT_LOADED, get_membership, may_change, may_coordinate
from communities.models import Membership
from engagement import kept
from engagement.models import Claim, Registration, Session, Venue
from members.models import User


def _loaded(user, community, membership):
    return get_membership(user, community) if membership is NOT_LOADED else membership


def is_partner(membership) -> bool:
    """An active partner of the community (a membership, or None)."""
    return (
        membership is not None
        and membership.is_active
        and membership.role == Membership.Role.PARTNER
    )


def may_run_sessions(user, community, membership=NOT_LOADED) -> bool:
    """Coordinators and site staff run every session of the community; its partners run
    their own (see `sessions_run_by`), and plan new ones."""
    membership = _loaded(user, community, membership)
    return may_coordinate(user, community, membership) or is_partner(membership)


def sessions_run_by(user, community, membership=NOT_LOADED):
    """The community's sessions this person runs: every one for a coordinator or site
    staff; for a partner, those they facilitate and those their organisation hosts. Every
    partner page, and the navigation, finds sessions through this, so a partner never
    reaches another's session."""
    membership = _loaded(user, community, membership)
    sessions = Session.objects.filter(community=community)
    if may_coordinate(user, community, membership):
        return sessions
    if not is_partner(membership):
        return sessions.none()
    facilitated = Session.facilitators.through.objects.filter(user_id=user.pk)
    theirs = Q(pk__in=facilitated.values("session_id"))
    if membership.organisation_id is not None:
        theirs |= Q(host_id=membership.organisation_id)
    return sessions.filter(theirs)


def venues_others_meet_at(user, community, membership=NOT_LOADED):
    """The community's venues where a session meets that this person does not run."""
    others = Session.objects.filter(community=community).exclude(
        pk__in=sessions_run_by(user, community, membership).values("pk")
    )
    return Venue.objects.filter(community=community, sessions__in=others).distinct()


def may_change_venue(user, venue, membership=NOT_LOADED, *, others_meet_there: bool) -> bool:
    """Coordinators change any of the community's places. A partner adds places and changes
    those where only sessions they run meet: a change (a new name, no step-free access)
    reaches everyone coming to every session there, so it is for whoever runs them all.
    `others_meet_there`: the venue is among `venues_others_meet_at` for this person."""
    membership = _loaded(user, venue.community, membership)
    if may_coordinate(user, venue.community, membership):
        return True
    return is_partner(membership) and not others_meet_there


def may_answer(user, survey, membership=NOT_LOADED) -> bool:
    """Anyone answers a survey open to anyone; the community's active members answer the
    others."""
    if survey.audience == survey.Audience.ANYONE:
        return True
    if not user.is_authenticated:
        return False
    membership = _loaded(user, survey.community, membership)
    return membership is not None and membership.is_active


def open_surveys_for(user, community, membership=NOT_LOADED) -> list:
    """The community's surveys open now that this member may answer (none for people who
    are not active members: they find public surveys where they are shared). The open
    surveys are kept (`kept.open_surveys`); what this person may answer is decided here."""
    membership = _loaded(user, community, membership)
    if membership is None or not membership.is_active:
        return []
    return [
        survey for survey in kept.open_surveys(community) if may_answer(user, survey, membership)
    ]


def community_links(community, user, membership) -> dict | None:
    """What the community page offers this person from this app: the management pages a
    partner may use (coordinators have the whole of Manage), and open surveys to answer."""
    runs_sessions = may_run_sessions(user, community, membership) and not may_coordinate(
        user, community, membership
    )
    surveys = open_surveys_for(user, community, membership)
    if not (runs_sessions or surveys):
        return None
    return {"community": community, "runs_sessions": runs_sessions, "surveys": surveys}


def may_decide_claim(user, claim, membership=NOT_LOADED) -> bool:
    """Coordinators and site staff decide on claims and pay them, but never one they made
    or entered from paper: someone else checks those. Where no other coordinator can,
    site staff do (see `claim_deciders`)."""
    if not user.is_authenticated or user.pk in (claim.claimant_id, claim.entered_by_id):
        return False
    return may_coordinate(user, claim.community, membership)


def claim_deciders(claim, coordinators, staff) -> list:
    """Whom to tell that a claim is waiting: the community's coordinators (`coordinators`,
    their memberships with the person) who may decide it; where none may, site staff
    (`staff`, read only then). Nobody is told about deciding their own claim."""
    people = [m.user for m in coordinators if may_decide_claim(m.user, claim, m)]
    return people or [person for person in staff if may_decide_claim(person, claim, None)]


def may_change_own_claim(user, claim) -> bool:
    """Only the person who made a claim answers a question about it or withdraws it (not
    the coordinator who entered it from paper: the claim is the person's)."""
    return user.is_authenticated and user.pk == claim.claimant_id


# Each decision on a claim and the status it moves the claim to.
DECISIONS = {
    "approve": Claim.Status.APPROVED,
    "query": Claim.Status.QUERIED,
    "reject": Claim.Status.REJECTED,
}


def claim_actions(user, claim, membership=NOT_LOADED) -> dict:
    """What a claim's page offers this person, from the rules above and the claim's
    transition table, so it never offers a step the service would refuse (nothing, in an
    archived community)."""
    following = Claim.NEXT_STATUSES[claim.status]
    changing = may_change(claim.community)
    deciding = changing and may_decide_claim(user, claim, membership)
    own = changing and may_change_own_claim(user, claim)
    decisions = [action for action, status in DECISIONS.items() if status in following]
    return {
        "coordinate": may_coordinate(user, claim.community, membership),
        "decide": deciding and bool(decisions),
        "decisions": decisions if deciding else [],
        "pay": deciding and Claim.Status.PAID in following,
        "answer": own and claim.status == Claim.Status.QUERIED,
        "withdraw": own and Claim.Status.WITHDRAWN in following,
        "read_only": not changing,
    }


def may_register(user: User, session: Session, membership: Membership | None) -> bool:
    """Whether a session's page offers the register form: to active members, for a session
    taking registrations, in a community that is not archived."""
    return bool(
        user.is_authenticated
        and may_change(session.community)
        and session.registration_required
        and session.is_open_for_registration
        and membership is not None
        and membership.is_active
    )


def may_cancel(session: Session, registration: Registration | None) -> bool:
    """Whether a session's page offers to give up a place (or a place in the queue): only
    before the session starts, and not in an archived community."""
    return bool(
        registration is not None
        and registration.status != Registration.Status.CANCELLED
        and session.starts_at > timezone.now()
        and may_change(session.community)
    )
