from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communities import services
from communities.access import get_membership, may_coordinate
from communities.forms import ChoicesForm, InvitationSignupForm, JoinForm
from communities.models import Community, Invitation, Membership
from members.models import User


def home(request):
    communities = Community.objects.listed().only("name", "slug", "purpose")
    page = Paginator(communities, 20).get_page(request.GET.get("page"))
    return render(request, "communities/home.html", {"page": page})


def community_detail(request, slug):
    # Unlisted communities are reachable by their address; archived ones stay readable.
    community = get_object_or_404(Community, slug=slug)
    return render(
        request,
        "communities/community_detail.html",
        {
            "community": community,
            "membership": get_membership(request.user, community),
            "partners": community.partners.all(),
            "may_coordinate": may_coordinate(request.user, community),
            # Offered once, just after joining; never pressed.
            "offer_equality": request.session.pop("offer_equality", False),
        },
    )


def _offer_equality_monitoring(request) -> None:
    if not hasattr(request.user, "equality_monitoring"):
        request.session["offer_equality"] = True


def _refusal(request, community, error):
    messages.error(request, " ".join(error.messages))
    return redirect(community)


@login_required
def join(request, slug):
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership and membership.is_active:
        messages.info(request, _("You are already a member of this community."))
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
        except services.MembershipError as error:
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
        {"community": community, "form": form, "membership": membership},
    )


@login_required
def choices(request, slug):
    """A member changes the perspectives they bring and how they take part."""
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership is None or not membership.is_active:
        return redirect("communities:join", slug=slug)
    initial = {
        "perspectives": membership.perspectives,
        "involvement": list(membership.involvement.all()),
    }
    form = ChoicesForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_choices(membership=membership, **form.cleaned_data)
        except services.MembershipError as error:
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
        except services.MembershipError as error:
            return _refusal(request, community, error)
        messages.success(request, _("You have left %s.") % community.name)
        return redirect(community)
    return render(
        request, "communities/leave.html", {"community": community, "membership": membership}
    )


def invitation(request, slug, token):
    """An invitation link: sign up and join in one step, or join with an existing account."""
    invite = get_object_or_404(
        Invitation.objects.select_related("community"), community__slug=slug, token=token
    )
    community = invite.community
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
        except services.MembershipError as error:
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
