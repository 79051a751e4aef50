"""Writing many rows at once for `scale_data`: PostgreSQL's COPY where it is available,
`bulk_create` elsewhere (SQLite in tests). Rows are tuples in a given column order; ids are
handed out here, so that rows can point at each other before any of them is written.

No model's `save()`, signals or services run: the caller is responsible for writing rows the
app's own rules accept (the constraints still check them).
"""

import io
import json
from datetime import date, datetime
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max

COPY_CHUNK = 50_000


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    kind = type(value)
    if kind is int or kind is float or kind is Decimal:
        return str(value)
    if value is None:
        return r"\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime or kind is date:
        return value.isoformat()
    if kind is dict or kind is list:
        value = json.dumps(value)
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


class RowWriter:
    def __init__(self, *, now: datetime):
        self.postgres = connection.vendor == "postgresql"
        self.now = now
        self.written: dict[str, int] = {}
        self._next_id: dict[type, int] = {}
        self._models: set[type] = set()

    def ids(self, model, n: int) -> range:
        """Reserve `n` primary keys for new rows of `model`."""
        if model not in self._next_id:
            self._next_id[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        start = self._next_id[model]
        self._next_id[model] = start + n
        return range(start, start + n)

    def _fill(self, model, columns: list[str]) -> tuple[list[str], tuple]:
        """The columns the caller left out, with their defaults: a field added later with a
        default is filled in rather than breaking the copy."""
        missing, values = [], []
        for field in model._meta.concrete_fields:
            if field.primary_key or field.attname in columns:
                continue
            missing.append(field.attname)
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                values.append(self.now)
            else:
                values.append(field.get_default())
        return missing, tuple(values)

    def write(self, model, columns: str | list[str], rows) -> int:
        """Write `rows` (tuples in `columns` order; columns as a list, or one string with
        spaces between) into `model`'s table. Returns the count."""
        if isinstance(columns, str):
            columns = columns.split()
        missing, extra = self._fill(model, columns)
        all_columns = list(columns) + missing
        self._models.add(model)
        if self.postgres:
            count = self._copy(model, all_columns, rows, extra)
        else:
            count = self._bulk(model, all_columns, rows, extra)
        label = model._meta.label
        self.written[label] = self.written.get(label, 0) + count
        return count

    def _copy(self, model, columns, rows, extra) -> int:
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        sql = f"COPY {table} ({names}) FROM STDIN"
        tail = "\t".join(_copy_text(v) for v in extra)
        count = 0
        buffer = io.StringIO()
        with connection.cursor() as cursor:
            for row in rows:
                line = "\t".join([_copy_text(v) for v in row])
                buffer.write(f"{line}\t{tail}\n" if extra else f"{line}\n")
                count += 1
                if count % COPY_CHUNK == 0:
                    buffer.seek(0)
                    cursor.copy_expert(sql, buffer)
                    buffer = io.StringIO()
            if buffer.tell():
                buffer.seek(0)
                cursor.copy_expert(sql, buffer)
        return count

    def _bulk(self, model, columns, rows, extra) -> int:
        objects = [model(**dict(zip(columns, tuple(row) + extra, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=500)
        return len(objects)

    def finish(self) -> None:
        """Move each table's id sequence past the ids handed out here, and on PostgreSQL
        refresh the planner's statistics for the tables written."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(self._models)):
                cursor.execute(sql)
            for model in self._models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
