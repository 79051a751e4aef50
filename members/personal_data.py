"""Everything Convene holds about a person, gathered from every app for download and erasure.

`members` cannot import the apps above it, so each app registers a `Section` of its own,
usually from its `AppConfig.ready()`:

    from members.personal_data import Section, register

    register(Section(name="memberships", export=export_memberships, erase=None))

`export(user)` returns that app's rows about the person as plain dicts (values JSON can hold,
or dates). `erase(user)`, when given, removes or anonymises those rows; it runs inside
`members.services.erase_person`'s transaction, before the person's own row is anonymised.

This module imports no models at import time, so it is safe to import from an app's
`apps.py` before the app registry is ready.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder

if TYPE_CHECKING:
    from members.models import User

EXPORT_FILENAME = "convene-my-data.zip"


@dataclass(frozen=True)
class Section:
    name: str
    export: Callable[[User], list[dict]]
    erase: Callable[[User], None] | None = None


_sections: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add a section. Registering the same section again does nothing (an app's `ready()`
    may run more than once); a different section under a name already taken is a mistake."""
    existing = _sections.get(section.name)
    if existing is not None and existing != section:
        raise ImproperlyConfigured(f"A personal data section named {section.name!r} exists.")
    _sections[section.name] = section
    return section


def sections() -> list[Section]:
    """Every registered section, in the order they were registered."""
    return list(_sections.values())


def export_for(user: User) -> dict[str, list[dict]]:
    """Everything held about `user`, by section name."""
    return {section.name: section.export(user) for section in sections()}


# --- The download ---------------------------------------------------------------------------

# A spreadsheet treats a cell starting with one of these as a formula. Text a person typed
# must open as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    if columns:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: csv_cell(value) for key, value in row.items()})
    return out.getvalue()


def export_zip(user: User) -> bytes:
    """A ZIP file holding `data.json` (every section) and `<section>.csv` for each section."""
    data = export_for(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        )
        for name, rows in data.items():
            # A BOM so that spreadsheet programs read the file as UTF-8.
            archive.writestr(f"{name}.csv", "\ufeff" + _csv(rows))
    return buffer.getvalue()


# --- The sections `members` holds -----------------------------------------------------------


def _export_profile(user: User) -> list[dict]:
    # Never the password hash, not even a hashed form of it.
    return [
        {
            "email": user.email,
            "preferred_name": user.name,
            "pronouns": user.pronouns,
            "access_needs": user.access_needs,
            "language": user.language,
            "reminders_delivery": user.reminders_delivery,
            "updates_delivery": user.updates_delivery,
            "news_delivery": user.news_delivery,
            "alerts_delivery": user.alerts_delivery,
            "contact_channel": user.contact_channel,
            "phone": user.phone,
            "postal_address": user.postal_address,
            "joined": user.date_joined,
            "last_signed_in": user.last_login,
        }
    ]


def _export_email_addresses(user: User) -> list[dict]:
    from allauth.account.models import EmailAddress

    return list(
        EmailAddress.objects.filter(user=user).order_by("pk").values("email", "verified", "primary")
    )


def _export_equality(user: User) -> list[dict]:
    from members.models import EqualityMonitoring

    answers = EqualityMonitoring.objects.filter(user=user).first()
    if answers is None:
        return []
    return [
        {
            "consent_given": answers.consented_at,
            "age": answers.get_age_band_display(),
            "ethnic_group": answers.ethnic_group_label(),
            "sex": answers.get_sex_display(),
            "gender_same_as_sex_registered_at_birth": answers.get_gender_same_as_birth_display(),
            "disability_or_long_term_condition": answers.get_disability_display(),
            "postcode_district": answers.postcode_district,
        }
    ]


# `erase_person` anonymises the person's row and deletes their email addresses and equality
# answers itself, so these sections need no `erase` of their own.
def _export_notifications(user: User) -> list[dict]:
    from members.models import Notification

    rows = Notification.objects.filter(recipient=user).order_by("created_at")
    return [
        {
            "kind": row.kind,
            "state": row.get_state_display(),
            "written": row.created_at,
            "sent": row.sent_at,
            "channel": row.get_channel_display(),
        }
        for row in rows.iterator(chunk_size=500)
    ]


def _erase_notifications(user: User) -> None:
    """The record that a message existed stays; who it went to and what it said do not."""
    from members.models import Notification

    Notification.objects.filter(recipient=user).update(email="", context={})
    Notification.objects.filter(recipient=None, email=user.email).update(email="", context={})


register(Section(name="profile", export=_export_profile))
register(Section(name="email_addresses", export=_export_email_addresses))
register(Section(name="equality", export=_export_equality))
register(Section(name="notifications", export=_export_notifications, erase=_erase_notifications))
