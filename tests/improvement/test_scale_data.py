"""`manage.py scale_data`, the large community for measuring speed, at a tiny size: it makes
what it promises, as the app's own rules would have it, and the same seed makes the same
community again."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from communities.models import Community, Membership
from engagement import calendar
from engagement.models import (
    Answer,
    Claim,
    Participation,
    Registration,
    Response,
    Session,
    Survey,
)
from improvement.models import Comment, DataPoint, Decision, Idea, Project, Support, Update
from improvement.scale.base import SCALE_PASSWORD, busy_email
from members import revisions
from members.models import User

SIZES = {
    "members": 60,
    "ideas": 40,
    "supports": 300,
    "comments": 60,
    "sessions": 12,
    "registrations": 80,
    "responses": 30,
    "updates": 10,
    "claims": 20,
}


def scale(**options) -> str:
    out = StringIO()
    # Tests run with DEBUG off, where the command asks to be told twice (published logins).
    call_command("scale_data", **SIZES, **options, allow_production=True, stdout=out)
    return out.getvalue()


def test_it_makes_the_community_it_promises(db):
    printed = scale()
    community = Community.objects.get(slug="scale")
    assert Membership.objects.filter(community=community).count() == SIZES["members"]
    assert Idea.objects.filter(community=community).count() == SIZES["ideas"]
    assert Support.objects.filter(idea__community=community).count() == SIZES["supports"]
    assert Comment.objects.filter(idea__community=community).count() == SIZES["comments"]
    assert Session.objects.filter(community=community).count() == SIZES["sessions"]
    registrations = Registration.objects.filter(session__community=community)
    assert registrations.count() == SIZES["registrations"]
    assert Response.objects.filter(survey__community=community).count() == SIZES["responses"]
    assert Update.objects.filter(community=community).count() == SIZES["updates"]
    assert Claim.objects.filter(community=community).count() == SIZES["claims"]
    assert DataPoint.objects.filter(measure__project__community=community).count() == 900

    # A mix of statuses, as a real community would have.
    assert Membership.objects.filter(community=community).coordinators().count() == 2
    assert registrations.filter(attended=True).exists()
    assert Session.objects.filter(community=community).upcoming().exists()
    assert Session.objects.filter(community=community).past().exists()
    assert Answer.objects.filter(response__survey__community=community).exists()
    assert Participation.objects.filter(survey__community=community).exists()
    assert Update.objects.filter(community=community).published().exists()
    for idea in Idea.objects.filter(community=community, status=Idea.Status.MERGED):
        assert idea.merged_into.community_id == community.pk
        assert idea.merged_into.status != Idea.Status.MERGED
    for idea in Idea.objects.filter(community=community, decided_at__isnull=False):
        assert idea.decided_at == max(d.decided_at for d in idea.decisions.all())
    assert Decision.objects.filter(idea__community=community).exists()
    # Counts the app keeps on each idea, where it keeps them, agree with the rows.
    for idea in Idea.objects.filter(community=community):
        if hasattr(idea, "support_count"):
            assert idea.support_count == idea.supports.count()
            assert idea.comment_count == idea.comments.filter(hidden_at__isnull=True).count()
    assert "coordinator@scale.example.org" in printed


def test_results_kept_in_the_computed_cache_are_raised_past_the_bulk_rows(db):
    """Bulk writes send no signals: the feed's, surveys' and projects' revisions are raised
    by the command itself, so nothing kept under an earlier number is shown for them."""
    scale()
    community = Community.objects.get(slug="scale")
    keys = [revisions.key(calendar.REVISION, community.pk)]
    keys += [revisions.key(Survey.RESULTS_REVISION, s.pk) for s in community.surveys.all()]
    keys += [revisions.key(Project.CHARTS_REVISION, p.pk) for p in community.projects.all()]
    assert len(keys) == 5  # the feed, two surveys and two projects
    assert all(number > 0 for number in revisions.read(*keys))


def test_the_busy_member_gave_input_of_every_kind(db):
    printed = scale()
    busy = User.objects.get(email=busy_email("scale"))
    assert authenticate(email=busy.email, password=SCALE_PASSWORD) == busy
    ideas = Idea.objects.filter(author=busy).count()
    supports = Support.objects.filter(user=busy).count()
    comments = Comment.objects.filter(author=busy).count()
    registrations = Registration.objects.filter(user=busy).count()
    assert min(ideas, supports, comments, registrations) > 0
    assert Registration.objects.filter(user=busy, attended=True).exists()
    assert (
        f"{ideas:,} ideas, {supports:,} supports, {comments:,} comments" in printed
        and f"{registrations:,} registrations" in printed
    )


def test_every_row_passes_the_models_own_validation(db):
    scale()
    models = [Membership, Idea, Decision, Support, Comment, Session, Registration, Response,
              Answer, Claim, Update, DataPoint, User]  # fmt: skip
    for model in models:
        for row in model.objects.all()[:60]:
            row.full_clean()  # fields, choices, validators, unique and check constraints


def _fingerprint() -> dict:
    """What the community holds, by names rather than ids (ids differ on a second run)."""
    return {
        "people": list(User.objects.order_by("email").values_list("email", "name")),
        "ideas": list(
            Idea.objects.order_by("description").values_list(
                "description", "title", "status", "author__email", "merged_into__description"
            )
        ),
        "supports": sorted(Support.objects.values_list("idea__description", "user__email")),
        "comments": sorted(Comment.objects.values_list("idea__description", "author__email")),
        "registrations": sorted(
            Registration.objects.values_list("session__title", "user__email", "status", "attended")
        ),
        "claims": sorted(
            Claim.objects.values_list("claimant__email", "kind", "status", "fee", "payable")
        ),
    }


def test_the_same_seed_makes_the_same_community(db):
    scale(seed=7)
    first = _fingerprint()
    with pytest.raises(CommandError, match="--replace"):
        scale(seed=7)
    scale(seed=7, replace=True)
    assert _fingerprint() == first
    assert Community.objects.filter(slug="scale").count() == 1
    scale(seed=8, replace=True)
    assert _fingerprint() != first
