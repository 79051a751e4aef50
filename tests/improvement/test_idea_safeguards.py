"""What a review of ideas found, kept fixed: moderation that cannot be undone by a URL, input
that stays linked to the people who gave it, rounds that keep their rules, and pages whose
queries do not grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.access import ArchivedError
from communities.models import Community, Membership
from engagement import services as engagement_services
from improvement import services
from improvement.models import Comment, Idea, RoundError, Score
from tests.improvement.factories import new_member, survey_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member):
    return services.add_idea(
        community=community, by=member, title="Evening clinics", description="After work."
    )


@pytest.fixture
def hidden_comment(idea, community, coordinator):
    writer = new_member(community, "wyn@example.org", name="Wyn")
    comment = services.add_comment(idea=idea, user=writer, text="Something unkind")
    return services.hide_comment(comment=comment, by=coordinator, reason="Unkind")


@pytest.mark.parametrize("view", ["improvement:comment_report", "improvement:comment_edit"])
def test_a_hidden_comments_text_is_not_reachable_by_address(
    client, community, idea, member, hidden_comment, view
):
    client.force_login(member)
    url = reverse(view, args=[community.slug, idea.pk, hidden_comment.pk])
    response = client.get(url)
    assert response.status_code == 404
    assert "Something unkind" not in response.content.decode()


def test_changing_survey_answers_keeps_the_person_a_contributor(community, member, coordinator):
    answer = survey_answer(community, user=member, text="Send letters earlier.")
    survey = answer.response.survey
    survey.questions.update(required=False)
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Earlier letters",
        description=answer.text,
        survey_answer=answer,
    )
    question = survey.questions.get()
    engagement_services.save_response(
        survey=survey, user=member, answers=[(question, "Send them a week earlier.")]
    )
    idea.refresh_from_db()
    assert idea.survey_answer is None  # the old answer went with the change
    assert list(Idea.objects.filter(pk=idea.pk).contributors().members) == [member]


def test_a_strange_merged_from_value_is_ignored(client, community, idea):
    for value in ["²", "abc", "-1", "9" * 30, ""]:
        response = client.get(idea.get_absolute_url(), {"merged_from": value})
        assert response.status_code == 200, value


def test_names_are_shown_to_members_only(client, community, idea, member, outsider):
    services.add_comment(idea=idea, user=member, text="I would come at 6pm.")
    anonymous_page = client.get(idea.get_absolute_url()).content.decode()
    assert "Michael" not in anonymous_page and "a member" in anonymous_page
    client.force_login(outsider)
    assert "Michael" not in client.get(idea.get_absolute_url()).content.decode()
    client.force_login(member)
    assert "Michael" in client.get(idea.get_absolute_url()).content.decode()


def test_a_double_tap_on_add_idea_keeps_one(client, community, member):
    client.force_login(member)
    data = {"title": "Water at clinic", "description": "A water fountain in the waiting room."}
    url = reverse("improvement:idea_new", args=[community.slug])
    client.post(url, data)
    client.post(url, data)
    assert Idea.objects.count() == 1


# --- Rounds ----------------------------------------------------------------------------------


@pytest.fixture
def open_round(community, coordinator, idea, member):
    round_ = services.create_round(
        community=community, by=coordinator, title="Spring", description="", ideas=[idea]
    )
    services.invite_scorers(round=round_, people={member: "community"}, by=coordinator)
    services.open_round(round=round_)
    return round_


def test_criteria_are_fixed_once_scoring_starts(client, community, open_round, coordinator):
    criteria = list(open_round.criteria.all())
    data = {
        "save_criteria": "1",
        "criteria-TOTAL_FORMS": str(len(criteria)),
        "criteria-INITIAL_FORMS": str(len(criteria)),
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
    }
    for i, c in enumerate(criteria):
        data.update(
            {
                f"criteria-{i}-id": c.pk,
                f"criteria-{i}-name": c.name,
                f"criteria-{i}-description": c.description,
                f"criteria-{i}-weight": 10,
                f"criteria-{i}-DELETE": "on" if i == 0 else "",
            }
        )
    client.force_login(coordinator)
    client.post(reverse("improvement:manage_round", args=[community.slug, open_round.pk]), data)
    assert [c.weight for c in open_round.criteria.all()] == [1, 1, 1]


def test_scores_are_refused_in_an_archived_community(community, open_round, idea, member):
    scorer = open_round.scorers.get()
    Community.objects.filter(pk=community.pk).update(status=Community.Status.ARCHIVED)
    open_round.refresh_from_db()
    criterion = open_round.criteria.first()
    with pytest.raises(ArchivedError):
        services.record_scores(round=open_round, scorer=scorer, values={(idea.pk, criterion.pk): 3})
    assert not Score.objects.exists()


def test_someone_who_left_can_no_longer_score(community, open_round, idea, member):
    scorer = open_round.scorers.get()
    Membership.objects.filter(user=member).update(status=Membership.Status.LEFT)
    criterion = open_round.criteria.first()
    with pytest.raises(RoundError):
        services.record_scores(round=open_round, scorer=scorer, values={(idea.pk, criterion.pk): 3})


def test_merging_takes_the_idea_out_of_open_rounds(
    community, open_round, idea, member, coordinator
):
    other = services.add_idea(community=community, by=member, title="Late clinics", description="d")
    scorer = open_round.scorers.get()
    criterion = open_round.criteria.first()
    services.record_scores(round=open_round, scorer=scorer, values={(idea.pk, criterion.pk): 4})
    services.merge_ideas(source=idea, target=other, by=coordinator, note="Same")
    assert list(open_round.ideas.all()) == []
    assert not Score.objects.filter(idea=idea).exists()


def test_decisions_on_a_merged_idea_show_on_the_idea_it_joined(
    client, community, idea, member, coordinator
):
    services.decide(idea=idea, outcome="adapt", reason="Two evenings a month.", by=coordinator)
    other = services.add_idea(community=community, by=member, title="Late clinics", description="d")
    services.merge_ideas(source=idea, target=other, by=coordinator, note="Same")
    page = client.get(other.get_absolute_url()).content.decode()
    assert "Two evenings a month." in page


# --- Writes by persona ------------------------------------------------------------------------

POSTS = [
    ("improvement:idea_support", {}, "idea"),
    ("improvement:idea_comment", {"text": "Hello"}, "idea"),
    ("improvement:manage_idea_status", {"status-status": "considering"}, "idea"),
    ("improvement:manage_idea_decide", {"outcome": "adopt", "reason": "Yes"}, "idea"),
    ("improvement:manage_themes", {"name": "Access", "position": 0}, None),
    ("improvement:manage_rounds", {"title": "R", "ideas": "the idea"}, None),
]


@pytest.mark.parametrize("view, data, target", POSTS)
@pytest.mark.parametrize(
    "persona, allowed",
    [("outsider", {"improvement:idea_support": False, "improvement:idea_comment": False}),
     ("member", {"improvement:idea_support": True, "improvement:idea_comment": True}),
     ("partner", {"improvement:idea_support": True, "improvement:idea_comment": True}),
     ("other_coordinator", {}),
     ("coordinator", None)],
)  # fmt: skip
def test_who_may_write(request, client, community, idea, view, data, target, persona, allowed):
    """Members support and comment; only coordinators run ideas. `None`: allowed everything."""
    user = request.getfixturevalue(persona)
    client.force_login(user)
    args = [community.slug, idea.pk] if target == "idea" else [community.slug]
    if "ideas" in data:
        data = {**data, "ideas": [idea.pk]}
    before = _state(idea)
    response = client.post(reverse(view, args=args), data)
    may = True if allowed is None else allowed.get(view, False)
    if not may and view.startswith("improvement:manage_"):
        assert response.status_code == 403
    assert (_state(idea) != before) == may, (persona, view)


def _state(idea):
    from improvement.models import PrioritisationRound, Support, Theme

    idea.refresh_from_db()
    return (
        idea.status,
        idea.decisions.count(),
        Support.objects.count(),
        Comment.objects.count(),
        Theme.objects.count(),
        PrioritisationRound.objects.count(),
    )


# --- Query counts on the coordinators' pages ------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_round_and_report_pages_do_not_grow_with_ideas(client, community, coordinator, member):
    counts = []
    for n in (3, 30):
        Idea.objects.all().delete()
        ideas = [
            services.add_idea(
                community=community,
                by=coordinator,
                title=f"Idea {n}-{i}",
                description="d",
                on_behalf={"on_behalf_of": "Paper"},
            )
            for i in range(n)
        ]
        for i, one in enumerate(ideas):
            comment = Comment.objects.create(idea=one, author=member, text=f"c{i}")
            services.report_comment(comment=comment, by=coordinator, reason="Look")
        round_ = services.create_round(
            community=community, by=coordinator, title=f"R{n}", description="", ideas=ideas
        )
        services.invite_scorers(round=round_, people={member: "community"}, by=coordinator)
        services.open_round(round=round_)
        client.force_login(member)
        score = _queries(
            client, reverse("improvement:round_score", args=[community.slug, round_.pk])
        )
        client.force_login(coordinator)
        pages = [
            reverse("improvement:manage_round", args=[community.slug, round_.pk]),
            reverse("improvement:manage_round_results", args=[community.slug, round_.pk]),
            reverse("improvement:manage_reports", args=[community.slug]),
            reverse("improvement:manage_themes", args=[community.slug]),
            reverse("improvement:manage_idea", args=[community.slug, ideas[0].pk]),
        ]
        counts.append([score] + [_queries(client, url) for url in pages])
    assert counts[0] == counts[1]


def test_the_reported_comments_page_lists_only_comments_with_a_report_waiting(
    client, community, coordinator, member, partner
):
    idea = services.add_idea(community=community, by=member, title="Ramps", description="d")
    quiet = services.add_comment(idea=idea, user=member, text="Nobody reported this one.")
    settled = services.add_comment(idea=idea, user=partner, text="Reported, then kept up.")
    waiting = services.add_comment(idea=idea, user=member, text="Reported and waiting.")
    services.report_comment(comment=settled, by=member, reason="Rude")
    services.dismiss_reports(comment=settled, by=coordinator)
    services.report_comment(comment=waiting, by=partner, reason="Names a nurse")
    client.force_login(coordinator)
    page = client.get(reverse("improvement:manage_reports", args=[community.slug]))
    assert [comment.pk for comment in page.context["comments"]] == [waiting.pk]
    text = page.content.decode()
    assert "Names a nurse" in text
    assert quiet.text not in text and settled.text not in text
