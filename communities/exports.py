"""The members list as CSV rows, for any number of members at a fixed cost.

The rows come from one query: perspectives and ways of taking part are gathered per member
in SQL, and every label is translated once per value before the first row is written."""

from collections.abc import Iterator

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from communities.models import InvolvementOption, Membership, MembershipPerspective, Perspective
from members.exports import GroupedIds, split_ids

CHUNK_SIZE = 2000


def member_header() -> list[str]:
    return [
        _("name"),
        _("email"),
        _("role"),
        _("status"),
        _("perspectives"),
        _("involvement"),
        _("joined"),
    ]


def _grouped(queryset, column: str) -> Subquery:
    """One member's values of `column` in `queryset`, joined by commas, as a subquery."""
    return Subquery(
        queryset.filter(membership=OuterRef("pk"))
        .values("membership")
        .annotate(joined=GroupedIds(column))
        .values("joined")
    )


def member_rows(memberships, *, community) -> Iterator[list]:
    """One row per membership in `memberships`, in its order, with the columns of
    `member_header`. Labels are translated now, in the active language; the rows are read
    only as they are consumed."""
    roles = {value: str(label) for value, label in Membership.Role.choices}
    statuses = {value: str(label) for value, label in Membership.Status.choices}
    perspectives = {value: str(label) for value, label in Perspective.choices}
    # The community's ways of taking part, in the order they are offered.
    options = {
        str(pk): (i, name)
        for i, (pk, name) in enumerate(
            InvolvementOption.objects.filter(community=community).values_list("pk", "name")
        )
    }
    rows = (
        memberships.select_related("user")
        .only("role", "status", "joined_at", "user__name", "user__email", "user__erased_at")
        .annotate(
            perspective_codes=_grouped(MembershipPerspective.objects, "perspective"),
            option_ids=_grouped(Membership.involvement.through.objects, "involvementoption"),
        )
    )

    def generate():
        for m in rows.iterator(chunk_size=CHUNK_SIZE):
            user = m.user
            chosen = sorted(options[pk] for pk in split_ids(m.option_ids) if pk in options)
            yield [
                user.display_name,
                "" if user.erased_at else user.email,
                roles.get(m.role, m.role),
                statuses.get(m.status, m.status),
                "; ".join(
                    perspectives.get(code, code) for code in sorted(split_ids(m.perspective_codes))
                ),
                "; ".join(name for _position, name in chosen),
                m.joined_at.date() if m.joined_at else "",
            ]

    return generate()
