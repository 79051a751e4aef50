"""The improvement app's models, one module per part: ideas and their discussion,
prioritisation rounds, and updates that close the loop."""

from improvement.models.ideas import (
    COMMENT_EDIT_WINDOW,
    CONTACT_CHOICES,
    Comment,
    CommentReport,
    Contributors,
    Decision,
    Idea,
    IdeaError,
    IdeaEvent,
    IdeaQuerySet,
    OnBehalfContact,
    Support,
    Theme,
)
from improvement.models.rounds import (
    COMMUNITY_PERSPECTIVES,
    DEFAULT_CRITERIA,
    Criterion,
    PrioritisationRound,
    RoundError,
    Score,
    Scorer,
)
from improvement.models.updates import Update, UpdateError, UpdateQuerySet

__all__ = [
    "COMMENT_EDIT_WINDOW",
    "COMMUNITY_PERSPECTIVES",
    "CONTACT_CHOICES",
    "DEFAULT_CRITERIA",
    "Comment",
    "CommentReport",
    "Contributors",
    "Criterion",
    "Decision",
    "Idea",
    "IdeaError",
    "IdeaEvent",
    "IdeaQuerySet",
    "OnBehalfContact",
    "PrioritisationRound",
    "RoundError",
    "Score",
    "Scorer",
    "Support",
    "Theme",
    "Update",
    "UpdateError",
    "UpdateQuerySet",
]
