"""The coordinators' area, /c/<slug>/manage/: members, requests, invitations and settings."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities import exports, services
from communities.access import coordinator_required, may_change
from communities.forms import (
    CommunityForm,
    DecisionForm,
    InvitationForm,
    InvolvementOptionForm,
    MemberFilterForm,
    PartnerForm,
    RoleForm,
)
from communities.models import Community, Invitation, InvolvementOption, Membership
from communities.panels import panels, revision_keys
from members import outbox, revisions
from members.computed import computed, version_of
from members.exports import csv_download
from members.rendering import render_form

PAGE_SIZE = 25


def _refused(request, error, *to):
    messages.error(request, " ".join(error.messages))
    return redirect(*to)


def _people_waiting(community) -> dict[str, int]:
    """How many people asked to join, are members, have left, and hold an invitation not yet
    used: counted once per revision of the memberships and invitations, and kept until the
    first of those invitations expires."""
    (revision,) = revisions.read(revisions.key(Membership.MEMBERS_REVISION, community.pk))

    def count() -> dict:
        status = Membership.Status
        people = dict(
            Membership.objects.filter(
                community=community,
                status__in=[status.REQUESTED, status.ACTIVE, status.LEFT],
            )
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        invitations = community.invitations.pending().aggregate(
            n=Count("pk"), first_expires=Min("expires_at")
        )
        return {
            "requested": people.get(status.REQUESTED, 0),
            "active": people.get(status.ACTIVE, 0),
            "left": people.get(status.LEFT, 0),
            "pending_invitations": invitations["n"],
            "first_expires": invitations["first_expires"],
        }

    return computed(
        "communities-people-waiting",
        version_of(community.pk, revision),
        count,
        until=lambda counts: counts["first_expires"],
    )


def _needs_doing(community) -> dict[str, int]:
    """The dashboard's counts: people (kept, see `_people_waiting`) and the emails that
    failed and letters and calls to make (one indexed query: their states change with
    every delivery)."""
    notifications = community.notifications.counts()
    return {
        **_people_waiting(community),
        "failed_deliveries": notifications["failed"],
        "to_contact": notifications["to_contact"],
    }


@coordinator_required
def dashboard(request, community):
    keys = [
        revisions.key(Membership.MEMBERS_REVISION, community.pk),
        *revision_keys(community, "dashboard"),
    ]
    with revisions.prefetched(*keys):
        return render(
            request,
            "communities/manage/dashboard.html",
            {
                "community": community,
                "counts": _needs_doing(community),
                "surveys": community.surveys.only(
                    "pk", "title", "published", "community_id"
                ).order_by("-opens_at")[:10],
                "panels": panels("dashboard", community, request.user),
            },
        )


@never_cache  # postal addresses and phone numbers
@coordinator_required
def contact_list(request, community):
    """People who asked for a letter or a call instead of email: a printable list of what to
    tell them. Each is marked done once they have been written to or phoned."""
    rows = (
        community.notifications.call_and_letter()
        .select_related("recipient", "about_type", "community")
        .order_by("recipient__name", "created_at")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    outbox.describe_all(list(page.object_list))
    # People whose email could not be used: skipped, and listed here so someone can reach
    # them another way (the newest first, a page's worth).
    unreachable = list(
        community.notifications.unreachable()
        .exclude(recipient=None)
        .select_related("recipient", "about_type", "community")
        .order_by("-created_at")[:PAGE_SIZE]
    )
    outbox.describe_all(unreachable)
    return render(
        request,
        "communities/manage/contact_list.html",
        {
            "community": community,
            "page": page,
            "unreachable": unreachable,
            "read_only": not may_change(community),
        },
    )


@require_POST
@coordinator_required
def contact_done(request, community, pk):
    row = get_object_or_404(community.notifications.call_and_letter(), pk=pk)
    try:
        services.mark_contacted(row=row)
    except ValidationError as error:
        return _refused(request, error, "communities:manage_contact_list", community.slug)
    messages.success(request, _("Marked as done."))
    return redirect("communities:manage_contact_list", slug=community.slug)


def _filtered_members(request, community):
    form = MemberFilterForm(request.GET or None, community=community)
    memberships = form.filter(Membership.objects.filter(community=community))
    return form, memberships.order_by("user__name", "user__email")


@coordinator_required
def members(request, community):
    form, memberships = _filtered_members(request, community)
    # A page of members is counted, read and rendered once per revision of the community's
    # memberships (their perspectives and ways of taking part too) and of people's names,
    # for each filter: 100,000 members are not counted again for every page of them.
    revision = revisions.read(
        revisions.key(Membership.MEMBERS_REVISION, community.pk), revisions.PEOPLE
    )
    kept_as = version_of(community.pk, *revision, form.digest())
    paginator = Paginator(memberships.with_details(), PAGE_SIZE)
    paginator.count = computed("communities-members-listed", kept_as, memberships.count)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "communities/manage/members.html",
        {
            "community": community,
            "form": form,
            # The same for every coordinator who asks the same: rendered once, then kept.
            "filter_form": render_form(form, name="communities-member-filter"),
            "page": page,
            "kept_as": version_of(kept_as, page.number),
            "query": query.urlencode(),
        },
    )


@never_cache
@coordinator_required
def members_csv(request, community):
    """The members list as CSV, sent as it is written. No special-category data: no access
    needs, no monitoring."""
    _form, memberships = _filtered_members(request, community)
    return csv_download(
        filename=f"{community.slug}-members.csv",
        header=exports.member_header(),
        rows=exports.member_rows(memberships, community=community),
    )


def _member(community, pk):
    return get_object_or_404(Membership.objects.with_details().filter(community=community), pk=pk)


@never_cache  # shows access needs, which can be health information
@coordinator_required
def member_detail(request, community, pk):
    membership = _member(community, pk)
    form = RoleForm(request.POST or None, instance=membership, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                by=request.user,
                organisation=form.cleaned_data["organisation"],
            )
        except ValidationError as error:
            return _refused(request, error, request.path)
        messages.success(request, _("Role changed."))
        return redirect("communities:manage_members", slug=community.slug)
    return render(
        request,
        "communities/manage/member_detail.html",
        {
            "community": community,
            "membership": membership,
            "form": form,
            "read_only": not may_change(community),
        },
    )


@require_POST
@coordinator_required
def member_remove(request, community, pk):
    membership = _member(community, pk)
    try:
        services.remove_member(membership=membership, by=request.user)
    except ValidationError as error:
        return _refused(request, error, "communities:manage_member", community.slug, pk)
    messages.success(request, _("%s was removed from the community.") % membership.user)
    return redirect("communities:manage_members", slug=community.slug)


@coordinator_required
def requests(request, community):
    pending = (
        Membership.objects.filter(community=community, status=Membership.Status.REQUESTED)
        .with_details()
        .order_by("status_changed_at")
    )
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "communities/manage/requests.html",
        {
            "community": community,
            "page": page,
            "form": DecisionForm(),
            "read_only": not may_change(community),
        },
    )


@require_POST
@coordinator_required
def decide(request, community, pk):
    membership = _member(community, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.decide_request(
                membership=membership,
                approve=approve,
                by=request.user,
                message=form.cleaned_data["message"],
            )
        except ValidationError as error:
            return _refused(request, error, "communities:manage_requests", community.slug)
        if approve:
            messages.success(request, _("%s is now a member.") % membership.user)
        else:
            messages.success(request, _("The request from %s was declined.") % membership.user)
    return redirect("communities:manage_requests", slug=community.slug)


@coordinator_required
def invitations(request, community):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite(
                community=community,
                by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.success(request, _("Invitation sent to %s.") % invitation.email)
            return redirect("communities:manage_invitations", slug=community.slug)
    pending = community.invitations.filter(accepted_at=None, revoked_at=None).select_related(
        "invited_by"
    )
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "communities/manage/invitations.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "read_only": not may_change(community),
        },
    )


def _invitation(community, pk):
    return get_object_or_404(Invitation, community=community, pk=pk)


@require_POST
@coordinator_required
def invitation_resend(request, community, pk):
    invitation = _invitation(community, pk)
    try:
        services.resend_invitation(invitation=invitation)
    except ValidationError as error:
        return _refused(request, error, "communities:manage_invitations", community.slug)
    messages.success(request, _("Invitation sent again to %s.") % invitation.email)
    return redirect("communities:manage_invitations", slug=community.slug)


@require_POST
@coordinator_required
def invitation_revoke(request, community, pk):
    invitation = _invitation(community, pk)
    try:
        services.revoke_invitation(invitation=invitation)
    except ValidationError as error:
        return _refused(request, error, "communities:manage_invitations", community.slug)
    messages.success(request, _("The invitation to %s was withdrawn.") % invitation.email)
    return redirect("communities:manage_invitations", slug=community.slug)


@coordinator_required
def edit(request, community):
    # The form edits its own copy, so a refused save leaves the page's links and names alone.
    form = CommunityForm(request.POST or None, instance=Community.objects.get(pk=community.pk))
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_community(
                community=form.save(commit=False),
                changed=form.changed_data,
                old_rules=community.ground_rules,
            )
        except ValidationError as error:
            return _refused(request, error, "communities:manage_dashboard", community.slug)
        messages.success(request, _("Community details saved."))
        return redirect("communities:manage_dashboard", slug=saved.slug)
    return render(
        request,
        "communities/manage/edit.html",
        {"community": community, "form": form, "read_only": not may_change(community)},
    )


@coordinator_required
def involvement(request, community, pk=None):
    option = get_object_or_404(community.involvement_options, pk=pk) if pk else None
    editing = InvolvementOption.objects.get(pk=option.pk) if option else None
    form = InvolvementOptionForm(request.POST or None, instance=editing, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_involvement_option(community=community, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved “%s”.") % form.instance.name)
            return redirect("communities:manage_involvement", slug=community.slug)
    return render(
        request,
        "communities/manage/involvement.html",
        {
            "community": community,
            "form": form,
            "option": option,
            "options": community.involvement_options.all(),
            "read_only": not may_change(community),
        },
    )


@coordinator_required
def partners(request, community, pk=None):
    partner = get_object_or_404(community.partners, pk=pk) if pk else None
    # An organisation that works with other communities too is changed by site staff only,
    # so one community's coordinator cannot rewrite what another community shows.
    shared = bool(
        partner
        and not request.user.is_staff
        and partner.communities.exclude(pk=community.pk).exists()
    )
    form = None if shared else PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form is None:
        messages.error(
            request, _("Only site staff can change an organisation other communities share.")
        )
        return redirect("communities:manage_partners", slug=community.slug)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.save_partner(community=community, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved %s.") % partner.name)
            return redirect("communities:manage_partners", slug=community.slug)
    return render(
        request,
        "communities/manage/partners.html",
        {
            "community": community,
            "form": form,
            "partner": partner,
            "shared": shared,
            "partners": community.partners.all(),
            "read_only": not may_change(community),
        },
    )


@require_POST
@coordinator_required
def partner_unlink(request, community, pk):
    partner = get_object_or_404(community.partners, pk=pk)
    try:
        services.unlink_partner(community=community, partner=partner)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%s is no longer listed as a partner.") % partner.name)
    return redirect("communities:manage_partners", slug=community.slug)
