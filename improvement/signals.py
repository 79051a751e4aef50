"""Events other parts of Convene hook into."""

from django.dispatch import Signal

# Sent after the transaction that records a decision commits, with `decision`. Nothing in
# Convene listens yet: after a decision the coordinator is taken straight to an update about
# the idea, which is what tells its contributors. Other reactions (a webhook, an audit log)
# can hang off this without touching the decision code.
idea_decided = Signal()
