"""Paying people: a member's claims and choices, and coordinators' approval, rates, roles
and finance export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Sum
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communities.access import coordinator_required, get_membership, may_change, may_coordinate
from communities.models import Community, Membership
from engagement import payments
from engagement.access import claim_actions
from engagement.models import (
    Activity,
    Basis,
    Claim,
    Expense,
    PaidRole,
    PaymentSettings,
    tax_year_of,
)
from engagement.payment_forms import (
    AnswerForm,
    ClaimForm,
    DecideForm,
    ExpenseFormSet,
    OnBehalfForm,
    PaidForm,
    PaidRoleForm,
    PaymentChoiceForm,
    PaymentSettingsForm,
    PeriodForm,
    RateForm,
)
from members.computed import computed, version_of
from members.exports import csv_download

CLAIMS_PER_PAGE = 25


def _with_expenses(claims):
    return claims.select_related("community", "claimant", "session", "entered_by").prefetch_related(
        Prefetch("expenses", queryset=Expense.objects.order_by("pk"))
    )


@never_cache
@login_required
def my_payments(request):
    """My claims in every community, their status, and my totals this tax year."""
    claims = _with_expenses(Claim.objects.filter(claimant=request.user))
    page = Paginator(claims, CLAIMS_PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()  # across communities: the site's day
    start, end = tax_year_of(today)
    counted = Claim.objects.filter(claimant=request.user).counted().in_tax_year(today)
    memberships = Membership.objects.active().filter(user=request.user).select_related("community")
    return render(
        request,
        "engagement/payments/mine.html",
        {
            "page": page,
            "start": start,
            "end": end,
            "time_total": counted.aggregate(t=Sum("payable"))["t"] or 0,
            "expenses_total": Expense.objects.filter(claim__in=counted).aggregate(t=Sum("amount"))[
                "t"
            ]
            or 0,
            "memberships": memberships,
        },
    )


def _community_for_claims(request, slug) -> tuple[Community, bool]:
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    coordinating = may_coordinate(request.user, community, membership)
    if not coordinating and (membership is None or not membership.is_active):
        raise PermissionDenied
    return community, coordinating


@login_required
def claim_new(request, slug):
    community, coordinating = _community_for_claims(request, slug)
    on_behalf = coordinating and request.GET.get("for") == "someone"
    who = OnBehalfForm(request.POST or None, community=community) if on_behalf else None
    claimant = request.user
    if who is not None and who.is_valid():
        claimant = who.cleaned_data["claimant"]
    # On paper, the form offers the chosen person's roles and knows their attendance once
    # they are chosen (sent again after choosing, or on a form with errors).
    form = ClaimForm(
        request.POST or None,
        community=community,
        claimant=claimant if (not on_behalf or (who is not None and who.is_valid())) else None,
    )
    expenses = ExpenseFormSet(request.POST or None, request.FILES or None, prefix="expenses")
    if (
        request.method == "POST"
        and form.is_valid()
        and expenses.is_valid()
        and (who is None or who.is_valid())
    ):
        data = form.cleaned_data
        rows = [row for row in (f.row() for f in expenses.forms) if row]
        try:
            claim = payments.submit_claim(
                community=community,
                claimant=claimant,
                by=request.user,
                request=payments.ClaimRequest(
                    kind=data["kind"],
                    date=data["date"],
                    session=data["session"],
                    activity=data["activity"],
                    hours=data["hours"],
                    description=data["description"],
                    paid_role=data["paid_role"],
                ),
                expenses=rows,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Claim sent. A coordinator will look at it."))
            return redirect(claim)
    return render(
        request,
        "engagement/payments/claim_form.html",
        {
            "community": community,
            "form": form,
            "expenses": expenses,
            "who": who,
            "choice": payments.choice_of(get_membership(claimant, community)),
            "read_only": not may_change(community),
        },
    )


def _claim(request, slug, pk) -> tuple[Claim, dict]:
    """A claim its claimant or the community's coordinators may see (others get 404), and
    what this person may do with it, for the page and the actions alike."""
    community = get_object_or_404(Community, slug=slug)
    claim = get_object_or_404(_with_expenses(Claim.objects.filter(community=community)), pk=pk)
    membership = get_membership(request.user, community)
    coordinating = may_coordinate(request.user, community, membership)
    mine = claim.claimant_id == request.user.pk
    if not mine and not coordinating:
        raise Http404
    return claim, claim_actions(request.user, claim, membership)


def _page(request, claim, may, status=200, **forms):
    forms = {
        "decide_form": DecideForm(),
        "answer_form": AnswerForm(),
        "paid_form": PaidForm(initial={"paid_on": payments.community_today(claim.community)}),
        **forms,
    }
    # Offer only the decisions the claim can take now (a question asked: not approved,
    # with a reason); a form sent with another was already checked against them all.
    action = forms["decide_form"].fields["action"]
    action.choices = [choice for choice in action.choices if choice[0] in may["decisions"]]
    return render(
        request,
        "engagement/payments/claim.html",
        {"community": claim.community, "claim": claim, "may": may, **forms},
        status=status,
    )


@never_cache
@login_required
def claim_detail(request, slug, pk):
    claim, may = _claim(request, slug, pk)
    return _page(request, claim, may)


def _back(claim):
    return redirect(claim)


@require_POST
@login_required
def claim_answer(request, slug, pk):
    claim, _may = _claim(request, slug, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            payments.answer_query(claim=claim, by=request.user, answer=form.cleaned_data["answer"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Answer sent to the coordinators."))
    else:
        messages.error(request, _("Write your answer."))
    return _back(claim)


@require_POST
@login_required
def claim_withdraw(request, slug, pk):
    claim, _may = _claim(request, slug, pk)
    try:
        payments.withdraw_claim(claim=claim, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Claim withdrawn."))
    return _back(claim)


@require_POST
@login_required
def claim_decide(request, slug, pk):
    claim, may = _claim(request, slug, pk)
    if not may["coordinate"]:
        raise PermissionDenied
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            payments.decide_claim(claim=claim, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Done. The person has been told."))
            return _back(claim)
    return _page(request, claim, may, status=400, decide_form=form)


@require_POST
@login_required
def claim_paid(request, slug, pk):
    claim, may = _claim(request, slug, pk)
    if not may["coordinate"]:
        raise PermissionDenied
    form = PaidForm(request.POST)
    if not form.is_valid():
        return _page(request, claim, may, status=400, paid_form=form)
    try:
        payments.mark_paid(
            claim=claim,
            by=request.user,
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data["reference"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Marked as paid. The person has been told."))
    return _back(claim)


@never_cache
@login_required
def receipt(request, slug, pk, expense):
    """A receipt, only to the person who claimed and the community's coordinators."""
    claim, _may = _claim(request, slug, pk)
    item = get_object_or_404(Expense, claim=claim, pk=expense)
    if not item.receipt:
        raise Http404
    extension = item.receipt.name.rsplit(".", 1)[-1]
    response = FileResponse(
        item.receipt.open("rb"),
        as_attachment=True,
        filename=f"receipt-{claim.pk}-{item.pk}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def payment_choice(request, slug):
    community = get_object_or_404(Community, slug=slug)
    membership = get_membership(request.user, community)
    if membership is None or not membership.is_active:
        raise PermissionDenied
    current = payments.choice_of(membership)
    form = PaymentChoiceForm(
        request.POST or None,
        instance=current if current.pk else None,
        initial={"choice": current.choice},
    )
    if request.method == "POST" and form.is_valid():
        try:
            payments.set_payment_choice(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved. It applies to claims you make from now on."))
            return redirect("engagement:my_payments")
    return render(
        request,
        "engagement/payments/choice.html",
        {"community": community, "form": form, "read_only": not may_change(community)},
    )


# --- Coordinators ------------------------------------------------------------------------------


@never_cache
@coordinator_required
def manage(request, community):
    status = request.GET.get("status") or Claim.Status.SUBMITTED
    if status not in Claim.Status.values:
        status = Claim.Status.SUBMITTED
    claims = _with_expenses(Claim.objects.filter(community=community, status=status))
    page = Paginator(claims.order_by("date", "pk"), CLAIMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "engagement/payments/manage.html",
        {
            "community": community,
            "page": page,
            "status": status,
            "statuses": Claim.Status.choices,
            "query": f"status={status}",
            "spending": payments.spending(community, payments.community_today(community)),
        },
    )


@coordinator_required
def rates(request, community):
    if request.method == "POST" and "suggested" in request.POST:
        try:
            added = payments.add_suggested_rates(
                community=community, valid_from=payments.community_today(community)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("engagement:manage_rates", slug=community.slug)
        messages.success(
            request,
            _(
                "%(n)d starting rates added from today. Check them and add "
                "your own where they differ."
            )
            % {"n": added},
        )
        return redirect("engagement:manage_rates", slug=community.slug)
    form = RateForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            payments.save_rate(community=community, form=form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Rate saved. It applies to claims for days from its date."))
            return redirect("engagement:manage_rates", slug=community.slug)
    return render(
        request,
        "engagement/payments/rates.html",
        {
            "community": community,
            "form": form,
            "rates": community.rates.all(),
            "read_only": not may_change(community),
            "suggested": [
                {
                    "activity": Activity(row["activity"]).label,
                    "basis": Basis(row["basis"]).label,
                    "amount": row["amount"],
                }
                for row in payments.suggested_rates()
            ],
        },
    )


@coordinator_required
def payment_settings(request, community):
    # Read with the defaults until the first save: looking at the page writes nothing.
    settings_row = PaymentSettings.objects.filter(community=community).first()
    if settings_row is None:
        settings_row = PaymentSettings(community=community)
    form = PaymentSettingsForm(request.POST or None, instance=settings_row)
    role_form = PaidRoleForm(
        request.POST if "add_role" in request.POST else None, community=community
    )
    if request.method == "POST":
        if "add_role" in request.POST:
            if role_form.is_valid():
                try:
                    payments.save_paid_role(community=community, form=role_form)
                except ValidationError as error:
                    role_form.add_error(None, error)
                else:
                    messages.success(request, _("Paid role saved."))
                    return redirect("engagement:manage_payment_settings", slug=community.slug)
        elif form.is_valid():
            try:
                payments.save_payment_settings(community=community, form=form)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("engagement:manage_payment_settings", slug=community.slug)
    return render(
        request,
        "engagement/payments/settings.html",
        {
            "community": community,
            "form": form,
            "role_form": role_form,
            "roles": PaidRole.objects.filter(membership__community=community).select_related(
                "membership__user"
            ),
            "read_only": not may_change(community),
        },
    )


def _period(request) -> tuple:
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()  # replaced by the community's day by the caller
    start, end = tax_year_of(today)
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    return form, start, end


TOTALS_PER_PAGE = 50


@coordinator_required
def totals(request, community):
    """Each person's totals for a tax year, flagged over the community's threshold."""
    day = payments.parse_day(request.GET.get("year_of", "")) or payments.community_today(community)
    start, end = tax_year_of(day)
    # The number of people is kept apart from the totals, and each page's table is kept
    # rendered: a page already seen reads neither the claims nor the kept list.
    version = payments.tax_year_version(community, day)

    def kept() -> list[payments.PersonTotal]:
        return payments.kept_tax_year_totals(community, day, version=version)

    people = computed("engagement-tax-year-people", version, lambda: len(kept()))
    page = Paginator(range(people), TOTALS_PER_PAGE).get_page(request.GET.get("page"))
    shown = page.object_list
    return render(
        request,
        "engagement/payments/totals.html",
        {
            "community": community,
            "page": page,
            "query": urlencode({"year_of": day.isoformat()}),
            # Read only when the page's table is not kept yet.
            "totals": SimpleLazyObject(lambda: kept()[shown.start : shown.stop]),
            "kept_as": version_of(version, page.number),
            "start": start,
            "end": end,
            "threshold": getattr(getattr(community, "payment_settings", None), "threshold", None),
            "previous": start.replace(year=start.year - 1),
            "next": start.replace(year=start.year + 1),
        },
    )


CSV_HEADER = ["name", "role", "activity", "date", "hours", "rate", "basis", "amount",
              "choice", "expenses", "total", "status", "paid on", "reference"]  # fmt: skip


@coordinator_required
def finance_csv(request, community):
    """Approved and paid claims in a period, one row each, for finance, sent as it is
    written. Cells a spreadsheet would run as formulas are escaped."""
    _form, start, end = _period(request)
    claims = (
        Claim.objects.filter(community=community)
        .counted()
        .filter(date__gte=start, date__lte=end)
        .order_by("date", "pk")
    )
    return csv_download(
        filename=f"payments-{community.slug}-{start}-{end}.csv",
        header=CSV_HEADER,
        rows=payments.finance_rows(claims),
    )
