"""Writes about ideas and updates. Each is one transaction, with what others must hear written
to the outbox in it and sent after commit."""

from improvement.services.ideas import *  # noqa: F403
from improvement.services.projects import *  # noqa: F403
from improvement.services.updates import *  # noqa: F403
