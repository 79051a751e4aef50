"""Who may do what with sessions, surveys and claims: each rule of this app, once.

Each `may_*` is a small function of the person and the thing (and their membership, when
the caller has it loaded: then it asks the database nothing). Services refuse with them,
views pass their answers to templates as booleans, and alerts go to the people they allow.
"""

from communities.access import NOT_LOADED, may_coordinate
from engagement.models import Claim


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


def claim_actions(user, claim, membership=NOT_LOADED) -> dict:
    """What a claim's page offers this person, from the rules above and the claim's
    transition table, so it never offers a step the service would refuse."""
    following = Claim.NEXT_STATUSES[claim.status]
    deciding = may_decide_claim(user, claim, membership)
    own = may_change_own_claim(user, claim)
    return {
        "coordinate": may_coordinate(user, claim.community, membership),
        "decide": deciding and Claim.Status.REJECTED in following,
        "pay": deciding and Claim.Status.PAID in following,
        "answer": own and claim.status == Claim.Status.QUERIED,
        "withdraw": own and Claim.Status.WITHDRAWN in following,
    }
