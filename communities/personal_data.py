"""What the communities app holds about a person, for their download and for erasure."""

from django.db.models import Q

from communities.models import Invitation, Membership


def export_memberships(user) -> list[dict]:
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("community")
        .prefetch_related("perspective_set", "involvement")
    )
    return [
        {
            "community": m.community.name,
            "role": m.get_role_display(),
            "status": m.get_status_display(),
            "perspectives": "; ".join(m.perspective_labels()),
            "involvement": "; ".join(option.name for option in m.involvement.all()),
            "joined": m.joined_at,
            "ground_rules_agreed": m.rules_agreed_at,
            "message_with_request": m.request_message,
        }
        for m in memberships
    ]


def erase_memberships(user) -> None:
    """Memberships stay, so counts of who took part stay true, but nothing personal is kept
    with them; the person has left every community."""
    from communities import services

    for membership in Membership.objects.filter(user=user).select_related("community"):
        if membership.status in (Membership.Status.ACTIVE, Membership.Status.REQUESTED):
            services.leave_community(membership=membership, erasing=True)
    Membership.objects.filter(user=user).update(request_message="", decision_message="")
    # Coordinators' alerts about this person's requests carried their name.
    from django.contrib.contenttypes.models import ContentType

    from members.models import Notification

    Notification.objects.filter(
        about_type=ContentType.objects.get_for_model(Membership),
        about_id__in=[
            str(pk) for pk in Membership.objects.filter(user=user).values_list("pk", flat=True)
        ],
    ).update(context={})


def export_invitations(user) -> list[dict]:
    invitations = Invitation.objects.filter(Q(email=user.email) | Q(accepted_by=user))
    return [
        {
            "community": i.community.name,
            "email": i.email,
            "role": i.get_role_display(),
            "sent": i.last_sent_at,
            "accepted": i.accepted_at,
        }
        for i in invitations.select_related("community")
    ]


def erase_invitations(user) -> None:
    Invitation.objects.filter(Q(email=user.email) | Q(accepted_by=user)).delete()
