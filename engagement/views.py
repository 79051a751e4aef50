import io

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communities.access import get_membership, may_change, may_coordinate
from communities.models import Community
from engagement import access, calendar, services
from engagement.forms import RegistrationForm
from engagement.models import Registration, Session

PAGE_SIZE = 20


def _community(slug):
    return get_object_or_404(Community, slug=slug)


def _sessions_for(request, community):
    sessions = Session.objects.filter(community=community).select_related("venue", "host")
    if not may_coordinate(request.user, community):
        sessions = sessions.visible()
    return sessions


def _session(request, community, pk) -> Session:
    session = get_object_or_404(_sessions_for(request, community).with_counts(), pk=pk)
    session.community = community
    return session


def session_list(request, slug):
    community = _community(slug)
    past = request.GET.get("show") == "past"
    sessions = _sessions_for(request, community).with_counts()
    sessions = sessions.past() if past else sessions.upcoming()
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "engagement/session_list.html",
        {"community": community, "page": page, "past": past, "query": "show=past" if past else ""},
    )


def _registration_of(user, session):
    if not user.is_authenticated:
        return None
    return Registration.objects.filter(session=session, user=user).first()


def _detail_context(request, community, session, registration, form) -> dict:
    membership = get_membership(request.user, community)
    return {
        "community": community,
        "session": session,
        "registration": registration,
        "membership": membership,
        "form": form,
        "read_only": not may_change(community),
        "may_register": access.may_register(request.user, session, membership),
        "may_cancel": access.may_cancel(session, registration),
    }


def session_detail(request, slug, pk):
    community = _community(slug)
    session = _session(request, community, pk)
    registration = _registration_of(request.user, session)
    return render(
        request,
        "engagement/session_detail.html",
        _detail_context(request, community, session, registration, RegistrationForm()),
    )


@require_POST
@login_required
def register(request, slug, pk):
    community = _community(slug)
    session = _session(request, community, pk)
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "engagement/session_detail.html",
            _detail_context(request, community, session, None, form),
            status=400,
        )
    try:
        registration = services.register(session=session, user=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(session)
    if registration.status == Registration.Status.REGISTERED:
        messages.success(request, _("You have a place. We have emailed you the details."))
    else:
        messages.success(
            request, _("The session is full, so you are on the waiting list. We will email you.")
        )
    return redirect(session)


@require_POST
@login_required
def cancel(request, slug, pk):
    community = _community(slug)
    session = _session(request, community, pk)
    registration = _registration_of(request.user, session)
    if registration is None or registration.status == Registration.Status.CANCELLED:
        raise Http404
    try:
        services.cancel_registration(registration=registration)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("You have cancelled. Thank you for letting us know."))
    return redirect(session)


def session_ics(request, slug, pk):
    community = _community(slug)
    session = _session(request, community, pk)
    registration = _registration_of(request.user, session)
    registered = bool(registration and registration.status == Registration.Status.REGISTERED)
    response = HttpResponse(
        calendar.session_ics(session, registered=registered), content_type="text/calendar"
    )
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response


def community_feed(request, slug):
    community = _community(slug)
    # Upcoming and recent sessions, built once per revision of the community's sessions.
    response = HttpResponse(calendar.community_feed(community), content_type="text/calendar")
    response["Content-Disposition"] = f'inline; filename="{community.slug}-sessions.ics"'
    return response


def poster(request, slug, pk):
    """A printable A4 poster for a community venue: large type and a QR code."""
    community = _community(slug)
    session = _session(request, community, pk)
    return render(
        request,
        "engagement/poster.html",
        {
            "community": community,
            "session": session,
            "address": settings.SITE_URL + session.get_absolute_url(),
        },
    )


def poster_qr(request, slug, pk):
    community = _community(slug)
    session = _session(request, community, pk)
    out = io.BytesIO()
    segno.make(settings.SITE_URL + session.get_absolute_url(), error="m").save(
        out, kind="svg", scale=10, border=2
    )
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")
