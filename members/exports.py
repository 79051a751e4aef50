"""CSV downloads sent as they are written, whatever their length.

A coordinator's export can hold a hundred thousand rows. `csv_download` writes them a block
at a time from an iterator (a queryset's `.iterator()`), so the server holds one block in
memory, never the whole file. Every cell goes through `csv_cell`, so text a person typed
never runs as a spreadsheet formula.

`GroupedIds` gathers the values of a to-many relation into one column in SQL, so a row needs
no query of its own: the rows then come from one query (one server-side cursor on
PostgreSQL), however many there are.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from django.db.models import Aggregate, CharField
from django.http import StreamingHttpResponse
from django.utils import translation

from members.personal_data import csv_cell

# About this much text is sent at once: far fewer writes than a row at a time, and still
# a small, fixed amount of memory.
BLOCK_SIZE = 64 * 1024


def csv_lines(header: Iterable, rows: Iterable[Iterable], *, language: str) -> Iterator[str]:
    """The CSV text of `header` and `rows`, in blocks of about BLOCK_SIZE characters, with
    anything translated while the rows are read in `language`."""
    out = io.StringIO()
    writer = csv.writer(out)
    with translation.override(language):
        writer.writerow([csv_cell(cell) for cell in header])
        for row in rows:
            writer.writerow([csv_cell(cell) for cell in row])
            if out.tell() >= BLOCK_SIZE:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    yield out.getvalue()


def csv_download(*, filename: str, header: Iterable, rows: Iterable[Iterable]):
    """A streamed CSV attachment. `header` is written first; `rows` is consumed only as the
    file is sent, after the view has returned, in the language active now."""
    lines = csv_lines(header, rows, language=translation.get_language())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class GroupedIds(Aggregate):
    """The values of a column in a group, as text joined by commas, in no set order:
    STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite. Meant for ids and codes, which hold
    no commas; `split_ids` reads them back."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra_context,
        )


def split_ids(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []
