"""Running sessions: coordinators, and partners who host sessions for the community."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities.access import get_membership, may_change, may_coordinate, refused_as_archived
from communities.models import Community
from engagement import access, services
from engagement.manage_forms import AttendanceForm, KeyPointForm, SessionForm, VenueForm
from engagement.models import KeyPoint, Registration, Session, Venue
from members.fanout import latest_progress

# The notices whose progress a session's page shows (the latest one).
NOTICES = ["session_changed", "session_cancelled"]


def _sessions_run_by(request, community):
    return access.sessions_run_by(request.user, community, request.membership)


def session_runner_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, slug, *args, **kwargs):
        community = get_object_or_404(Community, slug=slug)
        # Coordinators and site staff run every session; the community's partners run the
        # sessions they facilitate (and plan new ones, which they then facilitate).
        request.membership = get_membership(request.user, community)
        request.coordinating = may_coordinate(request.user, community, request.membership)
        if not access.may_run_sessions(request.user, community, request.membership):
            raise PermissionDenied
        refused = refused_as_archived(request, community, ("engagement:manage_sessions", slug))
        if refused:
            return refused
        return view(request, community, *args, **kwargs)

    return wrapper


def _session(request, community, pk) -> Session:
    """A session this person runs: any of the community's for a coordinator, those they
    facilitate for a partner. Another community's, or someone else's, is not found."""
    session = get_object_or_404(
        _sessions_run_by(request, community).select_related("venue", "host"), pk=pk
    )
    session.community = community
    return session


@session_runner_required
def sessions(request, community):
    rows = _sessions_run_by(request, community).with_counts().select_related("venue")
    page = Paginator(rows.order_by("-starts_at"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "engagement/manage/sessions.html",
        {
            "community": community,
            "page": page,
            "partner_only": not request.coordinating,
            "read_only": not may_change(community),
        },
    )


@session_runner_required
def edit(request, community, pk=None):
    session = _session(request, community, pk) if pk else Session(community=community)
    if session.status in (Session.Status.CANCELLED, Session.Status.COMPLETED):
        messages.error(request, _("A cancelled or completed session cannot be changed."))
        return redirect("engagement:manage_session", slug=community.slug, pk=pk)
    # Stored times, before the form writes the typed ones onto the session; to the minute,
    # as the form shows them.
    before = {
        name: value.replace(second=0, microsecond=0) if value else None
        for name, value in (("starts_at", session.starts_at), ("ends_at", session.ends_at))
    }
    form = SessionForm(request.POST or None, instance=session, community=community)
    if request.method == "POST" and form.is_valid():
        # Django compares typed times in the site's zone; compare them as the community sees them.
        changed = [f for f in form.changed_data if f not in before]
        changed += [f for f, value in before.items() if form.cleaned_data[f] != value]
        try:
            saved = services.save_session(session=form.save(commit=False), changed=changed)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form.save_m2m()  # the facilitators
            if not pk and not request.coordinating:
                saved.facilitators.add(request.user)  # a partner runs what they plan
            messages.success(request, _("Session saved."))
            return redirect("engagement:manage_session", slug=community.slug, pk=saved.pk)
    return render(
        request,
        "engagement/manage/edit.html",
        {
            "community": community,
            "form": form,
            "session": session if pk else None,
            "partner_only": not request.coordinating,
            "read_only": not may_change(community),
        },
    )


@never_cache  # shows access requirements, which can be health information
@session_runner_required
def session(request, community, pk):
    session = _session(request, community, pk)
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
        try:
            services.record_attendance(session=session, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Attendance saved."))
        return redirect("engagement:manage_session", slug=community.slug, pk=session.pk)
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
            "partner_only": not request.coordinating,
            "read_only": not may_change(community),
            "started": session.starts_at <= timezone.now(),
            "notice": latest_progress(kinds=NOTICES, about=session),
        },
    )


def _act(request, community, pk, action, done):
    session = _session(request, community, pk)
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
    return redirect("engagement:manage_session", slug=community.slug, pk=pk)


@require_POST
@session_runner_required
def cancel(request, community, pk):
    _act(
        request,
        community,
        pk,
        services.cancel_session,
        _("Cancelled. Everyone registered or waiting is being told."),
    )
    return redirect("engagement:manage_session", slug=community.slug, pk=pk)


@require_POST
@session_runner_required
def copy(request, community, pk):
    try:
        copied = services.copy_session(session=_session(request, community, pk))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("engagement:manage_session", slug=community.slug, pk=pk)
    messages.success(request, _("A copy was made as a draft. Change its date, then publish it."))
    return redirect("engagement:manage_session_edit", slug=community.slug, pk=copied.pk)


@require_POST
@session_runner_required
def add_key_point(request, community, pk):
    session = _session(request, community, pk)
    form = KeyPointForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["text"]))
        return redirect("engagement:manage_session", slug=community.slug, pk=pk)
    try:
        services.add_key_point(session=session, text=form.cleaned_data["text"], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Key point added."))
    return redirect("engagement:manage_session", slug=community.slug, pk=pk)


@require_POST
@session_runner_required
def remove_key_point(request, community, pk, point):
    session = _session(request, community, pk)
    key_point = get_object_or_404(KeyPoint, session=session, pk=point)
    try:
        services.remove_key_point(key_point=key_point)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Key point removed."))
    return redirect("engagement:manage_session", slug=community.slug, pk=pk)


@session_runner_required
def venues(request, community, pk=None):
    """The places this community meets: add one, or change one (partners, only the places
    where just their own sessions meet)."""
    shared = set()
    if not request.coordinating:
        shared = set(
            access.venues_others_meet_at(request.user, community, request.membership).values_list(
                "pk", flat=True
            )
        )
    places = []
    for place in Venue.objects.filter(community=community):
        place.community = community  # already loaded: no query per place
        places.append(
            (
                place,
                access.may_change_venue(
                    request.user, place, request.membership, others_meet_there=place.pk in shared
                ),
            )
        )
    venue = next((place for place, _may in places if place.pk == pk), None) if pk else None
    if pk and venue is None:
        raise Http404
    if venue is not None and not access.may_change_venue(
        request.user, venue, request.membership, others_meet_there=venue.pk in shared
    ):
        raise PermissionDenied
    editing = Venue.objects.get(pk=venue.pk) if venue else None
    form = VenueForm(request.POST or None, instance=editing, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_venue(community=community, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved %s.") % form.instance.name)
            return redirect("engagement:manage_venues", slug=community.slug)
    return render(
        request,
        "engagement/manage/venues.html",
        {
            "community": community,
            "form": form,
            "venue": venue,
            "places": places,
            "partner_only": not request.coordinating,
            "read_only": not may_change(community),
        },
    )
