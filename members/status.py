"""One contract for moving a status along a transition table.

Every model whose status follows a table (memberships, sessions, claims, ideas, rounds,
projects) inherits `StatusModel`, declares its table as `NEXT_STATUSES` and, where it has
them, the fields that move with the status. `set_status(to, *, by)` then behaves the same
everywhere: it returns False and writes nothing when the status is already `to`, refuses a
move the table does not allow with `StatusError`, and otherwise saves the status with only
the fields that moved with it, so an edit still open in memory is never written behind the
caller's back. It lives in `members`, the lowest app, so every app can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.choices import ChoiceLabels

if TYPE_CHECKING:
    from members.models import User


class StatusError(ValidationError):
    """A status change the model's transition table does not allow."""


class StatusModel(ChoiceLabels, models.Model):
    """A model whose `status` moves only along its `NEXT_STATUSES` table."""

    NEXT_STATUSES: ClassVar[Mapping[str, Set[str]]]
    # "%(now)s" and "%(new)s" are the labels of the two statuses. Models say it their way.
    STATUS_REFUSAL = _("“%(now)s” cannot become “%(new)s”. Reload the page to see the latest.")

    class Meta:
        abstract = True

    def transition_error(self, to: str) -> str | None:
        """Why the status cannot move to `to` now, or None if it can (or is there already).
        Models with rules beyond the table override this and may take more keywords, which
        `set_status` passes on."""
        if to == self.status or to in self.NEXT_STATUSES[self.status]:
            return None
        labels = dict(self._meta.get_field("status").flatchoices)
        return str(self.STATUS_REFUSAL) % {"now": labels[self.status], "new": labels.get(to, to)}

    def status_moved(self, before: str, *, by: User | None, at: datetime) -> Iterable[str]:
        """Set the fields that move with the status (dates, who decided) and name them, so
        they are saved with it. `self.status` is already the new status."""
        return ()

    def set_status(self, to: str, *, by: User | None, **conditions) -> bool:
        """Move to `to` if the table allows it, saving only the status and what moved with
        it. Returns False, writing nothing, when the status is already `to`; raises
        `StatusError` for a move the table refuses. `by` is who moved it, or None where no
        person is known: recorded where the model keeps who decided."""
        if to == self.status:
            return False
        error = self.transition_error(to, **conditions)
        if error:
            raise StatusError(error, code="status")
        at = timezone.now()
        before, self.status = self.status, to
        fields = ["status"]
        names = {f.name for f in self._meta.concrete_fields}
        if "status_changed_at" in names:
            self.status_changed_at = at
            fields.append("status_changed_at")
        fields.extend(self.status_moved(before, by=by, at=at))
        if "updated_at" in names:
            fields.append("updated_at")  # auto_now: stamped by the save itself
        self.save(update_fields=fields)
        return True


class StatusReadOnlyInAdmin:
    """For a `ModelAdmin` of a `StatusModel`: the status of a saved row is shown, not edited,
    so the admin cannot move it off the table; it moves through the services and the
    admin's actions, which call `set_status`. A new row still chooses where it starts."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "status" not in fields:
            fields.append("status")
        return fields
