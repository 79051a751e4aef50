from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communities import services
from communities.access import get_membership, may_change, may_coordinate
from communities.forms import ChoicesForm, InvitationSignupForm, JoinForm
from communities.models import Community, Invitation, Membership
from communities.panels import panels, person_panels, revision_keys
from members import revisions
from members.models import EqualityMonitoring, User


def home(request):
    """Running communities, then (after them, under their own heading) those winding down or
    archived, with their legacy notes: one list, so one page of rows and one count."""
    communities = Community.objects.on_home_page().only(
        "name", "slug", "purpose", "status", "legacy_note"
    )
    page = Paginator(communities, 20).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    return render(
        request,
        "communities/home.html",
        {
            "page": page,
            "current": [community for community in rows if not community.past],
            "past": [community for community in rows if community.past],
        },
    )


def community_detail(request, slug):
    # Unlisted communities are reachable by their address; archived ones stay readable.
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    # Every kept part of the page reads its revision from one query.
    with revisions.prefetched(*revision_keys(community, "community", "person")):
        return render(
            request,
            "communities/community_detail.html",
            {
                "community": community,
                "membership": membership,
                "partners": community.partners.all(),
                "may_coordinate": may_coordinate(request.user, community, membership),
                "read_only": not may_change(community),
                "offer_equality": _should_offer_equality(request, membership),
                "panels": panels("community", community),
                "person_panels": person_panels(community, request.user, membership),
            },
        )


EQUALITY_OFFER_DAYS = 14


def _should_offer_equality(request, membership) -> bool:
    """Offer the optional equality questions to someone who joined in the last two weeks
    (whether openly, by invitation or by approval) until they answer or say not now."""
    return bool(
        membership
        and membership.is_active
        and membership.joined_at
        and timezone.now() - membership.joined_at < timedelta(days=EQUALITY_OFFER_DAYS)
        and not request.session.get("equality_offer_dismissed")
        and not EqualityMonitoring.objects.filter(user=request.user).exists()
    )


@require_POST
@login_required
def dismiss_equality_offer(request, slug):
    request.session["equality_offer_dismissed"] = True
    return redirect("communities:detail", slug=slug)


def _offer_equality_monitoring(request) -> None:
    request.session.pop("equality_offer_dismissed", None)


def _refusal(request, community, error):
    messages.error(request, " ".join(error.messages))
    return redirect(community)


@login_required
def join(request, slug):
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership and membership.status in (Membership.Status.ACTIVE, Membership.Status.REQUESTED):
        if membership.is_active:
            messages.info(request, _("You are already a member of this community."))
        else:
            messages.info(request, _("You have already asked to join. A coordinator will reply."))
        return redirect(community)
    form = JoinForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.join_community(
                community=community,
                user=request.user,
                perspectives=form.cleaned_data["perspectives"],
                involvement=form.cleaned_data["involvement"],
                message=form.cleaned_data.get("message", ""),
            )
        except ValidationError as error:
            return _refusal(request, community, error)
        if membership.is_active:
            messages.success(request, _("Welcome! You are now a member of %s.") % community.name)
            _offer_equality_monitoring(request)
        else:
            messages.success(
                request,
                _("Thank you. A coordinator will look at your request and email you."),
            )
        return redirect(community)
    return render(
        request,
        "communities/join.html",
        {
            "community": community,
            "form": form,
            "membership": membership,
            "read_only": not may_change(community),
        },
    )


@login_required
def choices(request, slug):
    """A member changes the perspectives they bring and how they take part."""
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership is None or not membership.is_active:
        return redirect("communities:join", slug=slug)
    if membership.needs_to_agree_rules:
        messages.info(request, _("Please read and agree to the new ground rules first."))
        return redirect(community)
    initial = {
        "perspectives": membership.perspectives,
        "involvement": list(membership.involvement.all()),
    }
    form = ChoicesForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_choices(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            return _refusal(request, community, error)
        messages.success(request, _("Saved how you take part."))
        return redirect(community)
    return render(request, "communities/choices.html", {"community": community, "form": form})


@require_POST
@login_required
def agree_rules(request, slug):
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership is None or not membership.is_active:
        return redirect(community)
    services.agree_to_ground_rules(membership=membership)
    messages.success(request, _("Thank you for agreeing to the ground rules."))
    return redirect(community)


@login_required
def leave(request, slug):
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership is None or membership.status not in (
        Membership.Status.ACTIVE,
        Membership.Status.REQUESTED,
    ):
        return redirect(community)
    if request.method == "POST":
        try:
            services.leave_community(membership=membership)
        except ValidationError as error:
            return _refusal(request, community, error)
        messages.success(request, _("You have left %s.") % community.name)
        return redirect(community)
    return render(
        request, "communities/leave.html", {"community": community, "membership": membership}
    )


def invitation(request, slug, token):
    """An invitation link: sign up and join in one step, or join with an existing account."""
    invite = get_object_or_404(Invitation.objects.select_related("community"), token=token)
    community = invite.community
    if community.slug != slug:
        # The community's address changed after the email went out.
        return redirect(invite)
    problem = services.invitation_problem(invite)
    context = {"community": community, "invitation": invite, "problem": problem}
    if problem:
        return render(request, "communities/invitation.html", context, status=410)

    user = request.user
    if user.is_authenticated:
        if user.email != invite.email:
            context["wrong_account"] = True
            return render(request, "communities/invitation.html", context, status=403)
        form = JoinForm(request.POST or None, community=community)
        form.fields.pop("message", None)
    elif User.objects.filter(email=invite.email).exists():
        context["sign_in_url"] = (
            reverse("account_login") + "?" + urlencode({"next": request.get_full_path()})
        )
        return render(request, "communities/invitation.html", context)
    else:
        form = InvitationSignupForm(request.POST or None, community=community, email=invite.email)

    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                if not user.is_authenticated:
                    user = _create_invited_account(invite.email, form.cleaned_data["password1"])
                services.accept_invitation(
                    invitation=invite,
                    user=user,
                    perspectives=form.cleaned_data["perspectives"],
                    involvement=form.cleaned_data["involvement"],
                )
        except ValidationError as error:
            return _refusal(request, community, error)
        except IntegrityError:
            # Two tabs signing up from the same link: the second finds the account made.
            messages.error(request, services.invitation_problem(invite) or _("Please sign in."))
            return redirect("account_login")
        if not request.user.is_authenticated:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! You are now a member of %s.") % community.name)
        _offer_equality_monitoring(request)
        return HttpResponseRedirect(community.get_absolute_url())
    context["form"] = form
    return render(request, "communities/invitation.html", context)


def _create_invited_account(email: str, password: str) -> User:
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email=email, password=password)
    # The invitation reached this address and its secret link was followed: that verifies it.
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
