"""Writes about communities and membership. Each is one transaction; emails go after commit."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from communities.access import refuse_if_archived
from communities.models import (
    INVITATION_LIFETIME,
    Community,
    Invitation,
    InvolvementOption,
    Membership,
    MembershipError,
    MembershipPerspective,
    PartnerOrganisation,
)
from members import revisions
from members.models import Notification, User, normalise_email
from members.outbox import mark_contacted as mark_outbox_row_contacted
from members.outbox import notify, notify_address

Status = Membership.Status


def _set_choices(
    *, membership: Membership, perspectives: Iterable[str], involvement: Iterable[InvolvementOption]
) -> None:
    membership.perspective_set.all().delete()
    MembershipPerspective.objects.bulk_create(
        MembershipPerspective(membership=membership, perspective=p)
        for p in sorted(set(perspectives))
    )
    revisions.updated(MembershipPerspective, membership=membership)  # bulk: no signals
    membership.involvement.set(involvement)


def _record_agreement(membership: Membership) -> None:
    membership.rules_version_agreed = membership.community.ground_rules_version
    membership.rules_agreed_at = timezone.now()
    membership.save(update_fields=["rules_version_agreed", "rules_agreed_at"])


def normalise_text(text: str) -> str:
    """Text as a browser sends it (CRLF line ends, trailing spaces), for fair comparison."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def _refuse_if_last_coordinator(membership: Membership, message: str) -> None:
    """Every community keeps at least one coordinator. Reads the saved state, with the
    coordinators locked, so two coordinators stepping down at once cannot both succeed."""
    coordinators = set(
        Membership.objects.coordinators()
        .filter(community_id=membership.community_id)
        .select_for_update()
        .values_list("pk", flat=True)
    )
    if coordinators == {membership.pk}:
        raise MembershipError(message)


@transaction.atomic
def join_community(
    *,
    community: Community,
    user: User,
    perspectives: Iterable[str],
    involvement: Iterable[InvolvementOption],
    message: str = "",
) -> Membership:
    """Join an open community, or ask to join one that needs approval.

    Refused for invitation-only communities, for people already in, and for people a
    coordinator removed. Coordinators are told of a request by email.
    """
    refuse_if_archived(community)
    if community.join_policy == Community.JoinPolicy.INVITATION:
        raise MembershipError(
            _("This community is open by invitation only. Ask a coordinator to invite you.")
        )
    target = (
        Status.ACTIVE if community.join_policy == Community.JoinPolicy.OPEN else Status.REQUESTED
    )
    membership = (
        Membership.objects.select_for_update().filter(community=community, user=user).first()
    )
    if membership is None:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    community=community,
                    user=user,
                    status=target,
                    request_message=message,
                    joined_at=timezone.now() if target == Status.ACTIVE else None,
                )
        except IntegrityError:
            # The same person pressed Join twice at once; the other press got there first.
            raise MembershipError(_("You have already joined or asked to join.")) from None
    elif membership.status in (Status.ACTIVE, Status.REQUESTED, Status.INVITED):
        raise MembershipError(
            {
                Status.ACTIVE: _("You are already a member of this community."),
                Status.REQUESTED: _("You have already asked to join. A coordinator will reply."),
                Status.INVITED: _("You have been invited: use the link in your invitation email."),
            }[membership.status]
        )
    elif membership.status == Status.REMOVED:
        raise MembershipError(
            _("A coordinator removed you from this community. Ask them to invite you back.")
        )
    else:
        membership.request_message = message
        membership.role = Membership.Role.MEMBER
        membership.save(update_fields=["request_message", "role"])
        membership.set_status(target, by=user)
    _set_choices(membership=membership, perspectives=perspectives, involvement=involvement)
    _record_agreement(membership)
    if target == Status.REQUESTED:
        notify(
            recipients=community.coordinator_people(),
            kind="join_request",
            about=membership,
            community=community,
            context={"person_name": user.display_name},
            # Asking again after a decline is a new request to tell coordinators about.
            key=membership.status_changed_at.isoformat(),
        )
    return membership


@transaction.atomic
def decide_request(
    *, membership: Membership, approve: bool, by: User, message: str = ""
) -> Membership:
    """Approve or decline a request to join; the person is emailed either way."""
    refuse_if_archived(membership.community)
    if membership.status != Status.REQUESTED:
        raise MembershipError(_("This request has already been answered."))
    membership.decision_message = message
    membership.save(update_fields=["decision_message"])
    membership.set_status(Status.ACTIVE if approve else Status.DECLINED, by=by)
    notify(
        recipients=[membership.user],
        kind="request_approved" if approve else "request_declined",
        about=membership,
        community=membership.community,
        context={"message": message},
        key=membership.status_changed_at.isoformat(),
    )
    return membership


@transaction.atomic
def update_choices(
    *, membership: Membership, perspectives: Iterable[str], involvement: Iterable[InvolvementOption]
) -> None:
    refuse_if_archived(membership.community)
    _set_choices(membership=membership, perspectives=perspectives, involvement=involvement)


@transaction.atomic
def agree_to_ground_rules(*, membership: Membership) -> None:
    _record_agreement(membership)


@transaction.atomic
def leave_community(*, membership: Membership, erasing: bool = False) -> None:
    """Leave a community, or withdraw a request to join (coordinators are told). The last
    coordinator cannot leave: someone must run it. A person deleting their account leaves
    even an archived community."""
    if not erasing:
        refuse_if_archived(membership.community)
    if erasing:
        refusal = _(
            "You are the only coordinator of %(community)s, so you cannot delete your account "
            "yet. Make someone else a coordinator first."
        )
    else:
        refusal = _(
            "You are the only coordinator of %(community)s, so you cannot leave yet. Make "
            "someone else a coordinator first."
        )
    _refuse_if_last_coordinator(membership, refusal % {"community": membership.community.name})
    withdrawn = membership.status == Status.REQUESTED
    membership.set_status(Status.LEFT, by=membership.user)
    if withdrawn and not erasing:
        notify(
            recipients=membership.community.coordinator_people(),
            kind="request_withdrawn",
            about=membership,
            community=membership.community,
            context={"person_name": membership.user.display_name},
            key=membership.status_changed_at.isoformat(),
        )


@transaction.atomic
def change_role(
    *, membership: Membership, role: str, by: User, organisation: PartnerOrganisation | None = None
) -> None:
    """Give a member a role; a partner may belong to one of the community's partner
    organisations (and then runs the sessions it hosts). Only partners keep one."""
    refuse_if_archived(membership.community)
    if role != Membership.Role.COORDINATOR:
        _refuse_if_last_coordinator(
            membership,
            _("This is the only coordinator. Make someone else a coordinator first."),
        )
    if (
        organisation is not None
        and not membership.community.partners.filter(pk=organisation.pk).exists()
    ):
        raise MembershipError(_("That organisation is not a partner of this community."))
    membership.role = role
    membership.organisation = organisation if role == Membership.Role.PARTNER else None
    membership.save(update_fields=["role", "organisation"])


@transaction.atomic
def remove_member(*, membership: Membership, by: User) -> None:
    refuse_if_archived(membership.community)
    if not membership.is_active:
        raise MembershipError(
            _("Only active members can be removed. This person is no longer active here.")
        )
    _refuse_if_last_coordinator(
        membership, _("This is the only coordinator. Make someone else a coordinator first.")
    )
    membership.set_status(Status.REMOVED, by=by)


@transaction.atomic
def update_community(*, community: Community, changed: Iterable[str], old_rules: str) -> Community:
    """Save a coordinator's edits: only the fields they changed, so two coordinators editing
    different things do not overwrite each other. Ground rules whose words changed get a new
    version, which every member is asked to agree to on their next visit."""
    refuse_if_archived(Community.objects.get(pk=community.pk))
    fields = set(changed)
    community.ground_rules = normalise_text(community.ground_rules)
    if normalise_text(old_rules) != community.ground_rules:
        community.ground_rules_version = F("ground_rules_version") + 1
        fields |= {"ground_rules", "ground_rules_version"}
    else:
        fields.discard("ground_rules")
    if fields:
        community.save(update_fields=fields)
        community.refresh_from_db()
    return community


@transaction.atomic
def save_involvement_option(*, community: Community, form) -> InvolvementOption:
    """Add a way of taking part, or change one (the form carries the option)."""
    refuse_if_archived(community)
    return form.save()


@transaction.atomic
def save_partner(*, community: Community, form) -> PartnerOrganisation:
    """Save a partner organisation's details and list it as this community's partner."""
    refuse_if_archived(community)
    partner = form.save()
    community.partners.add(partner)
    return partner


@transaction.atomic
def unlink_partner(*, community: Community, partner: PartnerOrganisation) -> None:
    """The organisation is no longer listed as this community's partner; it stays for others."""
    refuse_if_archived(community)
    community.partners.remove(partner)


def mark_contacted(*, row: Notification) -> None:
    """A coordinator wrote to or phoned the person a letter-or-call row is for: the row is
    done. The outbox in `members` cannot know about communities, so an archived community's
    refusal is made here."""
    refuse_if_archived(row.community)
    mark_outbox_row_contacted(row=row)


# --- Invitations ----------------------------------------------------------------------------


def _send_invitation(invitation: Invitation) -> None:
    notify_address(
        email=invitation.email,
        kind="invitation",
        about=invitation,
        community=invitation.community,
        context={
            "message": invitation.message,
            "expires": date_format(timezone.localtime(invitation.expires_at), "j F Y"),
        },
        key=str(invitation.times_sent),
    )


@transaction.atomic
def invite(
    *, community: Community, email: str, role: str, by: User, message: str = ""
) -> Invitation:
    """Email a single-use link that lets the person join (signing up first if they must).

    No membership row is made until the invitation is accepted: whether an address has an
    account, and anything about that person, stays hidden from the coordinator."""
    refuse_if_archived(community)
    email = normalise_email(email)
    existing = Membership.objects.filter(community=community, user__email=email).first()
    if existing and existing.status in (Status.ACTIVE, Status.INVITED):
        raise MembershipError(
            _("%(email)s is already a member or has been invited.") % {"email": email}
        )
    if existing and existing.status == Status.REQUESTED:
        raise MembershipError(
            _("%(email)s has already asked to join. Approve their request instead.")
            % {"email": email}
        )
    # An expired invitation to the same address gives way to the new one.
    Invitation.objects.filter(
        community=community,
        email=email,
        accepted_at=None,
        revoked_at=None,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                community=community, email=email, role=role, invited_by=by, message=message
            )
    except IntegrityError:
        raise MembershipError(
            _("%(email)s already has an invitation waiting. Resend it instead.") % {"email": email}
        ) from None
    _send_invitation(invitation)
    return invitation


@transaction.atomic
def resend_invitation(*, invitation: Invitation) -> None:
    """Send the invitation again with a fresh expiry date."""
    refuse_if_archived(invitation.community)
    if invitation.state not in ("pending", "expired"):
        raise MembershipError(_("This invitation was already used or withdrawn."))
    now = timezone.now()
    invitation.last_sent_at = now
    invitation.expires_at = now + INVITATION_LIFETIME
    invitation.times_sent += 1
    invitation.save(update_fields=["last_sent_at", "expires_at", "times_sent"])
    _send_invitation(invitation)


@transaction.atomic
def revoke_invitation(*, invitation: Invitation) -> None:
    refuse_if_archived(invitation.community)
    if invitation.state not in ("pending", "expired"):
        raise MembershipError(_("This invitation was already used or withdrawn."))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def accept_invitation(
    *,
    invitation: Invitation,
    user: User,
    perspectives: Iterable[str],
    involvement: Iterable[InvolvementOption],
) -> Membership:
    """Use an invitation: the person becomes an active member in the invited role.

    Single use: the row is locked, and a used, withdrawn or expired invitation is refused.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    refuse_if_archived(invitation.community)
    if invitation.state != "pending":
        raise MembershipError(invitation_problem(invitation))
    membership, created = Membership.objects.get_or_create(
        community=invitation.community,
        user=user,
        defaults={"role": invitation.role, "status": Status.ACTIVE, "joined_at": timezone.now()},
    )
    if not created:
        if membership.is_active:
            raise MembershipError(_("You are already a member of this community."))
        membership.role = invitation.role
        membership.save(update_fields=["role"])
        membership.set_status(Status.ACTIVE, by=user)
    _set_choices(membership=membership, perspectives=perspectives, involvement=involvement)
    _record_agreement(membership)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def invitation_problem(invitation: Invitation) -> str:
    return {
        "accepted": _("This invitation has already been used. Sign in to reach the community."),
        "revoked": _("This invitation was withdrawn. Ask a coordinator for a new one."),
        "expired": _("This invitation has expired. Ask a coordinator to send it again."),
    }.get(invitation.state, "")
