"""What the engagement app holds about a person's payments, for their download.

Nothing here is erased when a person deletes their account. Claims are the community's
financial record of what it paid, to whom and why: the finance team and auditors must be
able to account for money paid out (and tax and benefit questions about a year's payments
can come years later), so a claim, its expenses and any receipt are kept. The person's own
row is emptied by `members.services.erase_person`, so their claims then show as "a former
member" and carry no name or email address. A payment choice is kept with them: it is the
person's instruction that explains why a claim was paid in full, in part, to a charity or
not at all.

Receipts are not put in the download, only whether one is held: the file is the
claimant's own, and they can open it from the claim's page.
"""

from decimal import Decimal

from django.db.models import Prefetch

from engagement.models import Claim, Expense, PaymentChoice


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _expense(expense: Expense) -> str:
    held = "receipt held" if expense.receipt else "no receipt"
    words = f"{expense.get_kind_display()}: £{expense.amount:.2f}"
    if expense.description:
        words += f" ({expense.description})"
    return f"{words}, {held}"


def export_claims(user) -> list[dict]:
    """The person's claims, each with its expenses in one cell (so the CSV stays one row a
    claim). Coordinators' names are left out: they are other people's data."""
    claims = (
        Claim.objects.filter(claimant=user)
        .select_related("community", "session", "paid_role")
        .prefetch_related(Prefetch("expenses", queryset=Expense.objects.order_by("pk")))
        .order_by("date", "pk")
    )
    rows = []
    for claim in claims:
        expenses = list(claim.expenses.all())
        rows.append(
            {
                "community": claim.community.name,
                "what_for": claim.get_kind_display(),
                "activity": claim.get_activity_display(),
                "session": claim.session.title if claim.session else "",
                "paid_role": claim.paid_role.title if claim.paid_role else "",
                "date": claim.date,
                "hours": None if claim.hours is None else str(claim.hours),
                "what_you_did": claim.description,
                "entered_for_you_by_a_coordinator": claim.entered_by_id is not None,
                "rate": _money(claim.rate_amount),
                "rate_basis": claim.get_rate_basis_display() if claim.rate_basis else "",
                "for_your_time": _money(claim.fee),
                "your_choice": claim.get_choice_display(),
                "to_be_paid_for_time": _money(claim.payable),
                "charity": claim.charity,
                "expenses": "; ".join(_expense(expense) for expense in expenses),
                "expenses_total": _money(sum((e.amount for e in expenses), Decimal("0"))),
                "receipts_held": sum(1 for expense in expenses if expense.receipt),
                "status": claim.get_status_display(),
                "not_recorded_as_attending": claim.not_recorded_as_attending,
                "coordinators_question": claim.question,
                "your_answer": claim.answer,
                "reason_not_approved": claim.decision_reason,
                "decided": claim.decided_at,
                "paid_on": claim.paid_on,
                "payment_reference": claim.payment_reference,
                "made": claim.created_at,
            }
        )
    return rows


def export_payment_choices(user) -> list[dict]:
    choices = PaymentChoice.objects.filter(membership__user=user).select_related(
        "membership__community"
    )
    return [
        {
            "community": c.membership.community.name,
            "choice": c.get_choice_display(),
            "share_taken_percent": c.lower_percent,
            "charity": c.charity,
            "changed": c.updated_at,
        }
        for c in choices.order_by("membership__community__name")
    ]
