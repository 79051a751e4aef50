"""Running sessions: coordinators, and partners who host sessions for the community."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities.access import may_coordinate
from communities.models import Community, Membership
from engagement import services
from engagement.manage_forms import AttendanceForm, KeyPointForm, SessionForm
from engagement.models import KeyPoint, Registration, Session


def may_run_sessions(user, community) -> bool:
    """Coordinators and site staff, and the community's partners, who host sessions."""
    return may_coordinate(user, community) or (
        user.is_authenticated
        and Membership.objects.active()
        .filter(community=community, user=user, role=Membership.Role.PARTNER)
        .exists()
    )


def session_runner_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        community = get_object_or_404(Community, slug=slug)
        if not may_run_sessions(request.user, community):
            raise PermissionDenied
        if request.method == "POST" and community.is_archived:
            messages.error(
                request, _("This community is archived, so nothing in it can be changed.")
            )
            return redirect("engagement_manage:sessions", slug=slug)
        return view(request, community, *args, **kwargs)

    return wrapper


def _session(community, pk) -> Session:
    session = get_object_or_404(
        Session.objects.select_related("venue", "host"), community=community, pk=pk
    )
    session.community = community
    return session


@session_runner_required
def sessions(request, community):
    rows = Session.objects.filter(community=community).with_counts().select_related("venue")
    page = Paginator(rows.order_by("-starts_at"), 25).get_page(request.GET.get("page"))
    return render(
        request, "engagement/manage/sessions.html", {"community": community, "page": page}
    )


@session_runner_required
def edit(request, community, pk=None):
    session = _session(community, pk) if pk else Session(community=community)
    form = SessionForm(request.POST or None, instance=session, community=community)
    if request.method == "POST" and form.is_valid():
        saved = services.save_session(session=form.save(commit=False), changed=form.changed_data)
        messages.success(request, _("Session saved."))
        return redirect("engagement_manage:session", slug=community.slug, pk=saved.pk)
    return render(
        request,
        "engagement/manage/edit.html",
        {"community": community, "form": form, "session": session if pk else None},
    )


@never_cache  # shows access requirements, which can be health information
@session_runner_required
def session(request, community, pk):
    session = _session(community, pk)
    registrations = list(
        session.registrations.exclude(status=Registration.Status.CANCELLED).select_related("user")
    )
    registered = [r for r in registrations if r.status == Registration.Status.REGISTERED]
    initial = {
        "came": [str(r.pk) for r in registered if r.attended],
        "walk_in_count": session.walk_in_count,
        "walk_in_perspectives": session.walk_in_perspectives,
        "attendance_notes": session.attendance_notes,
    }
    form = AttendanceForm(request.POST or None, registrations=registered, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.record_attendance(session=session, **form.cleaned_data)
        messages.success(request, _("Attendance saved."))
        return redirect("engagement_manage:session", slug=community.slug, pk=session.pk)
    return render(
        request,
        "engagement/manage/session.html",
        {
            "community": community,
            "session": session,
            "registrations": registrations,
            "form": form,
            "key_points": session.key_points.all(),
            "key_point_form": KeyPointForm(),
        },
    )


def _act(request, community, pk, action, done):
    session = _session(community, pk)
    try:
        action(session=session)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return session


@require_POST
@session_runner_required
def publish(request, community, pk):
    _act(request, community, pk, services.publish_session, _("Published: members can register."))
    return redirect("engagement_manage:session", slug=community.slug, pk=pk)


@require_POST
@session_runner_required
def cancel(request, community, pk):
    _act(
        request,
        community,
        pk,
        services.cancel_session,
        _("Cancelled. Everyone registered is told."),
    )
    return redirect("engagement_manage:session", slug=community.slug, pk=pk)


@require_POST
@session_runner_required
def copy(request, community, pk):
    copied = services.copy_session(session=_session(community, pk))
    messages.success(request, _("A copy was made as a draft. Change its date, then publish it."))
    return redirect("engagement_manage:edit", slug=community.slug, pk=copied.pk)


@require_POST
@session_runner_required
def add_key_point(request, community, pk):
    session = _session(community, pk)
    form = KeyPointForm(request.POST)
    if form.is_valid():
        KeyPoint.objects.create(
            session=session, text=form.cleaned_data["text"], created_by=request.user
        )
        messages.success(request, _("Key point added."))
    else:
        messages.error(request, " ".join(form.errors["text"]))
    return redirect("engagement_manage:session", slug=community.slug, pk=pk)


@require_POST
@session_runner_required
def remove_key_point(request, community, pk, point):
    get_object_or_404(KeyPoint, session__community=community, session_id=pk, pk=point).delete()
    messages.success(request, _("Key point removed."))
    return redirect("engagement_manage:session", slug=community.slug, pk=pk)
