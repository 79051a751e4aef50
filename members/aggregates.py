"""Counts and sums as scalar subqueries, so that a page can read several figures in one
query: `Community.objects.filter(pk=pk).values(waiting=count(claims), paid=total(claims,
"amount"))`. Each is one aggregate over its own rows (through their indexes), never a join
that multiplies rows, and is 0 when there are none."""

from django.db.models import DecimalField, F, Func, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


class _Aggregate(Func):
    """An aggregate written out as a plain function, so the subquery it sits in is one row
    over all its rows (no GROUP BY) instead of one row per group."""

    template = "%(function)s(%(expressions)s)"


def count(queryset: QuerySet) -> Coalesce:
    """How many rows `queryset` has."""
    rows = queryset.order_by().annotate(_n=_Aggregate(F("pk"), function="COUNT")).values("_n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def total(queryset: QuerySet, field: str, *, output_field=None) -> Coalesce:
    """The sum of `field` over `queryset`'s rows (money by default)."""
    output_field = output_field or DecimalField(max_digits=12, decimal_places=2)
    rows = queryset.order_by().annotate(
        _sum=_Aggregate(F(field), function="SUM", output_field=output_field)
    )
    return Coalesce(
        Subquery(rows.values("_sum")[:1], output_field=output_field),
        Value(0, output_field=output_field),
    )
