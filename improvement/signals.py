"""Events other parts of Convene hook into."""

from django.dispatch import Signal

# Sent after the transaction that records a decision commits, with `decision`. Telling the
# people whose input the idea holds hangs off this.
idea_decided = Signal()
