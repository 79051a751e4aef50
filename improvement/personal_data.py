"""What the improvement app holds about a person, for their download. Nothing is erased:
ideas, supports, comments and scores stay with the community's record, shown as "a former
member" once the person's own details are gone."""

from improvement.models import Comment, Idea, Score, Support


def export_ideas(user) -> list[dict]:
    ideas = Idea.objects.filter(author=user).select_related("community")
    return [
        {
            "community": idea.community.name,
            "title": idea.title,
            "description": idea.description,
            "status": idea.get_status_display(),
            "added": idea.created_at,
        }
        for idea in ideas
    ]


def export_supports(user) -> list[dict]:
    supports = Support.objects.filter(user=user).select_related("idea")
    return [{"idea": s.idea.title, "supported": s.created_at} for s in supports]


def export_comments(user) -> list[dict]:
    comments = Comment.objects.filter(author=user).select_related("idea")
    return [
        {
            "idea": c.idea.title,
            "comment": c.text,
            "posted": c.created_at,
            "edited": c.edited_at,
            "hidden_because": c.hidden_reason,
        }
        for c in comments
    ]


def export_scores(user) -> list[dict]:
    scores = Score.objects.filter(scorer__user=user).select_related(
        "scorer__round", "idea", "criterion"
    )
    return [
        {
            "round": s.scorer.round.title,
            "idea": s.idea.title,
            "criterion": s.criterion.name,
            "score": s.value,
        }
        for s in scores
    ]
