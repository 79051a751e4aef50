from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from members import health, home, outbox, personal_data, services
from members.forms import DeleteAccountForm, EqualityMonitoringForm, ProfileForm
from members.models import Delivery, EqualityMonitoring, NotificationGroup, User


@require_GET
@never_cache
def healthz(request):
    """Health of the web process, database, broker and scheduler, as JSON.

    200 when every part is healthy; 503 naming the parts that are not.
    """
    body = health.report()
    return JsonResponse(body, status=503 if body["failing"] else 200)


# The pages below show access needs or equality monitoring answers, so every one of them is
# sent with `Cache-Control: no-store` (never_cache): no browser or proxy keeps a copy.


@login_required
@never_cache
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        # Rows already waiting follow the new choices too (turned off: skipped).
        for group in NotificationGroup.values:
            if f"{group}_delivery" in form.changed_data:
                services.set_delivery(
                    user=request.user, group=group, delivery=form.cleaned_data[f"{group}_delivery"]
                )
        messages.success(request, _("Your profile is saved."))
        return redirect("members:profile")
    return render(
        request, "members/profile.html", {"form": form, "panels": home.panels(request.user)}
    )


@login_required
@never_cache
def equality(request):
    existing = EqualityMonitoring.objects.filter(user=request.user).first()
    form = EqualityMonitoringForm(request.POST or None, instance=existing)
    if request.method == "POST" and form.is_valid():
        answers = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.record_equality_monitoring(user=request.user, answers=answers)
        messages.success(request, _("Thank you. Your answers are saved."))
        return redirect("members:equality")
    return render(request, "members/equality.html", {"form": form, "has_answers": bool(existing)})


@login_required
@never_cache
@require_POST
def equality_withdraw(request):
    if services.withdraw_equality_consent(user=request.user):
        messages.success(
            request, _("You have withdrawn your consent. We have deleted your answers.")
        )
    else:
        messages.info(request, _("We do not hold any equality monitoring answers from you."))
    return redirect("members:equality")


@login_required
@never_cache
def my_data(request):
    return _render_my_data(request, DeleteAccountForm(user=request.user))


@login_required
@never_cache
@require_POST
def download_data(request):
    response = HttpResponse(personal_data.export_zip(request.user), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{personal_data.EXPORT_FILENAME}"'
    return response


@login_required
@never_cache
@require_POST
def delete_account(request):
    form = DeleteAccountForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_my_data(request, form)
    try:
        services.erase_person(user=request.user)
    except ValidationError as error:
        # Another app refused, e.g. the person is the only coordinator of a community.
        form.add_error(None, error)
        return _render_my_data(request, form)
    logout(request)
    messages.success(
        request,
        _("Your account is deleted. What you gave to communities stays, without your name."),
    )
    return redirect("communities:home")


def _render_my_data(request, form: DeleteAccountForm):
    return render(request, "members/my_data.html", {"delete_form": form})


# --- Unsubscribing from an email, without signing in ------------------------------------------


def _person_and_group(token):
    try:
        user_id, group = outbox.read_unsubscribe_token(token)
    except signing.BadSignature:
        return None, None
    person = User.objects.filter(pk=user_id, erased_at=None).first()
    return person, group


def _bad_link(request):
    return render(request, "members/unsubscribe_invalid.html", status=400)


@never_cache
def unsubscribe(request, token):
    """The link in every email. Opening it asks to confirm (mail scanners open links too);
    the button turns that group of emails off and says how to turn it on again."""
    person, group = _person_and_group(token)
    if person is None:
        return _bad_link(request)
    context = {"token": token, "group_label": NotificationGroup(group).label}
    if request.method == "POST":
        restore = request.POST.get("restore", "")
        if restore in Delivery.values and restore != Delivery.NEVER:
            services.set_delivery(user=person, group=group, delivery=restore)
            context["done"] = "on"
        else:
            context["previous"] = person.delivery_for(group)
            services.set_delivery(user=person, group=group, delivery=Delivery.NEVER)
            context["done"] = "off"
    return render(request, "members/unsubscribe.html", context)


# RFC 8058: mail providers POST here with no cookie and no CSRF token; the signed token in the
# address is what authorises it. The one exception to CSRF protection in Convene.
@csrf_exempt
def unsubscribe_one_click(request, token):
    if request.method != "POST":
        # A mail client that opens the address in a browser gets the ordinary page.
        return unsubscribe(request, token)
    person, group = _person_and_group(token)
    if person is None or request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponse(status=400)
    services.set_delivery(user=person, group=group, delivery=Delivery.NEVER)
    return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
