"""Ideas through the browser's eyes: who may see and do what, bad input kept and explained,
and query counts that do not grow with the number of ideas."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from engagement.models import Answer, KeyPoint, Question, Registration, Response, Session, Survey
from improvement import services
from improvement.models import Comment, Idea, PrioritisationRound, Support, Theme, Update
from tests.conftest import PERSONAS, client_as, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member):
    return services.add_idea(
        community=community, by=member, title="Evening clinics", description="After work, please."
    )


@pytest.fixture
def session(community):
    start = timezone.now() - timedelta(days=2)
    return Session.objects.create(
        community=community,
        title="Drop-in at the library",
        kind=Session.Kind.DROP_IN,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=Session.Status.PUBLISHED,
    )


@pytest.fixture
def key_point(session, coordinator):
    return KeyPoint.objects.create(
        session=session, text="Letters arrive after the appointment", created_by=coordinator
    )


@pytest.fixture
def answer(community, member):
    survey = Survey.objects.create(community=community, title="Clinic letters", published=True)
    question = Question.objects.create(
        survey=survey, text="What would make letters better?", kind=Question.Kind.LONG_TEXT
    )
    response = Response.objects.create(survey=survey, user=member)
    return Answer.objects.create(response=response, question=question, text="Plain words")


@pytest.fixture
def round_(community, coordinator, idea):
    return services.create_round(
        community=community, by=coordinator, title="Spring round", description="", ideas=[idea]
    )


# --- Who may see what ---------------------------------------------------------------------

# view name -> expected status per persona, in the shared PERSONAS order. 302 for a visitor is
# the login page; 302 for a non-member on "new" is the community page, with a message.
MATRIX = {
    "improvement:ideas": [200, 200, 200, 200, 200, 200, 200],
    "improvement:idea": [200, 200, 200, 200, 200, 200, 200],
    "improvement:idea_new": [302, 302, 200, 200, 200, 302, 200],
    "improvement:idea_on_behalf": [302, 403, 403, 200, 200, 403, 200],
    "improvement:manage_idea": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_themes": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_reports": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_rounds": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_round": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_round_results": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_idea_from_key_point": [302, 403, 403, 403, 200, 403, 200],
    "improvement:manage_idea_from_answer": [302, 403, 403, 403, 200, 403, 200],
    "improvement:round_score": [302, 403, 403, 403, 302, 403, 302],
}


@pytest.mark.parametrize("view", list(MATRIX))
def test_role_matrix(request, client, view, community, idea, round_, key_point, answer):
    args = {
        "improvement:ideas": [community.slug],
        "improvement:idea_new": [community.slug],
        "improvement:idea_on_behalf": [community.slug],
        "improvement:manage_themes": [community.slug],
        "improvement:manage_reports": [community.slug],
        "improvement:manage_rounds": [community.slug],
        "improvement:manage_round": [community.slug, round_.pk],
        "improvement:manage_round_results": [community.slug, round_.pk],
        "improvement:manage_idea_from_key_point": [community.slug, key_point.pk],
        "improvement:manage_idea_from_answer": [community.slug, answer.pk],
        "improvement:round_score": [community.slug, round_.pk],
    }.get(view, [community.slug, idea.pk])
    url = reverse(view, args=args)
    for persona, expected in zip(PERSONAS, MATRIX[view], strict=True):
        client_as(client, request, persona)
        response = client.get(url)
        assert response.status_code == expected, (persona, view, response.status_code)


def test_another_communitys_idea_is_not_found_through_this_community(
    client, community, other_community, other_coordinator, coordinator
):
    theirs = services.add_idea(
        community=other_community, by=other_coordinator, title="Theirs", description="x"
    )
    client.force_login(coordinator)
    assert (
        client.get(reverse("improvement:idea", args=[community.slug, theirs.pk])).status_code == 404
    )
    url = reverse("improvement:manage_idea", args=[community.slug, theirs.pk])
    assert client.get(url).status_code == 404
    url = reverse("improvement:manage_idea_decide", args=[community.slug, theirs.pk])
    response = client.post(url, {"outcome": "adopt", "reason": "Because"})
    assert response.status_code == 404
    assert not theirs.decisions.exists()


def test_writes_are_refused_to_people_without_the_role(client, community, idea, member, outsider):
    client.force_login(member)
    for name in (
        "improvement:manage_idea_decide",
        "improvement:manage_idea_status",
        "improvement:manage_idea_merge",
    ):
        response = client.post(
            reverse(name, args=[community.slug, idea.pk]),
            {"outcome": "adopt", "reason": "Yes", "status-status": "considering"},
        )
        assert response.status_code == 403
    client.force_login(outsider)
    client.post(reverse("improvement:idea_support", args=[community.slug, idea.pk]))
    client.post(reverse("improvement:idea_comment", args=[community.slug, idea.pk]), {"text": "Hi"})
    assert not Support.objects.exists()
    assert not Comment.objects.exists()


def test_a_scorer_sees_the_sheet_and_others_do_not(client, community, round_, member, partner):
    services.invite_scorers(round=round_, people={member: "community"}, by=None)
    services.open_round(round=round_)
    url = reverse("improvement:round_score", args=[community.slug, round_.pk])
    client.force_login(member)
    assert client.get(url).status_code == 200
    client.force_login(partner)
    assert client.get(url).status_code == 403


# --- Adding ideas, and bad input -------------------------------------------------------------


def test_member_adds_an_idea_with_themes(client, community, member):
    theme = Theme.objects.create(community=community, name="Access")
    client.force_login(member)
    response = client.post(
        reverse("improvement:idea_new", args=[community.slug]),
        {
            "title": "A toilet card",
            "description": "So people can find a toilet.",
            "themes": [theme.pk],
        },
    )
    idea = Idea.objects.get()
    assert response.status_code == 302 and response["Location"] == idea.get_absolute_url()
    assert idea.author == member and idea.source == "online" and list(idea.themes.all()) == [theme]
    assert idea.events.get().kind == "created"


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"title": "", "description": "Something"}, "title", "short title"),
        ({"title": "   ", "description": "Something"}, "title", "short title"),
        ({"title": "x" * 151, "description": "Something"}, "title", "at most 150"),
        ({"title": "Fine", "description": ""}, "description", "a little more"),
        ({"title": "Fine", "description": "y" * 4001}, "description", "at most 4000"),
    ],
)
def test_a_bad_idea_is_explained_beside_the_field_and_keeps_the_typing(
    client, community, member, data, field, words
):
    client.force_login(member)
    response = client.post(reverse("improvement:idea_new", args=[community.slug]), data)
    assert response.status_code == 200
    assert words in str(response.context["form"].errors[field])
    other = "description" if field == "title" else "title"
    if data[other]:
        assert data[other] in response.content.decode()
    assert not Idea.objects.exists()


def test_partner_enters_an_idea_from_paper_with_contact(client, community, partner):
    client.force_login(partner)
    response = client.post(
        reverse("improvement:idea_on_behalf", args=[community.slug]),
        {
            "title": "Bigger print",
            "description": "Letters in bigger print.",
            "source": "paper",
            "on_behalf_of": "Mrs Khan, Firth Park drop-in",
            "contact_by": "post",
            "contact_details": "1 High Street, Sheffield",
        },
    )
    assert response.status_code == 302
    idea = Idea.objects.get()
    assert idea.author is None and idea.entered_by == partner and idea.source == "paper"
    contributors = Idea.objects.filter(pk=idea.pk).contributors()
    assert [c.name for c in contributors.on_behalf] == ["Mrs Khan, Firth Park drop-in"]
    # Contact details are never on the public page.
    page = client.get(idea.get_absolute_url()).content.decode()
    assert "1 High Street" not in page and "Mrs Khan" not in page


def test_contact_by_without_details_is_refused_beside_the_field(client, community, coordinator):
    client.force_login(coordinator)
    response = client.post(
        reverse("improvement:idea_on_behalf", args=[community.slug]),
        {
            "title": "T",
            "description": "D",
            "source": "paper",
            "on_behalf_of": "Sam",
            "contact_by": "phone",
            "contact_details": "",
        },
    )
    assert response.status_code == 200
    assert "contact_details" in response.context["form"].errors
    assert "Sam" in response.content.decode()


# --- Support and discussion ------------------------------------------------------------------


def test_supporting_twice_counts_once_and_can_be_withdrawn(client, community, idea, member):
    client.force_login(member)
    url = reverse("improvement:idea_support", args=[community.slug, idea.pk])
    client.post(url)
    client.post(url)
    assert idea.supports.count() == 1
    page = client.get(idea.get_absolute_url())
    assert page.context["counts"]["support_count"] == 1
    assert "Withdraw my support" in page.content.decode()
    client.post(url, {"action": "withdraw"})
    assert idea.supports.count() == 0


def test_an_empty_or_too_long_comment_keeps_the_text_and_says_why(client, community, idea, member):
    client.force_login(member)
    url = reverse("improvement:idea_comment", args=[community.slug, idea.pk])
    response = client.post(url, {"text": "   "})
    assert response.status_code == 400
    assert "Write something" in str(response.context["comment_form"].errors["text"])
    long = "z" * 2001
    response = client.post(url, {"text": long})
    assert response.status_code == 400 and long in response.content.decode()
    assert not Comment.objects.exists()


def test_commenting_on_a_merged_idea_is_refused(client, community, idea, member, coordinator):
    other = services.add_idea(community=community, by=member, title="Late clinics", description="d")
    services.merge_ideas(source=idea, target=other, by=coordinator, note="Same")
    client.force_login(member)
    url = reverse("improvement:idea_comment", args=[community.slug, idea.pk])
    response = client.post(url, {"text": "Still here?"})
    assert response.status_code == 400
    assert "merged" in str(response.context["comment_form"].errors["text"])
    assert "Still here?" in response.content.decode()


def test_a_merged_ideas_address_leads_to_the_idea_it_joined(
    client, community, idea, member, coordinator
):
    other = services.add_idea(community=community, by=member, title="Late clinics", description="d")
    services.merge_ideas(source=idea, target=other, by=coordinator, note="Both about evenings")
    response = client.get(idea.get_absolute_url(), follow=True)
    assert response.redirect_chain[0][0].startswith(other.get_absolute_url())
    page = response.content.decode()
    assert "You followed a link to “Evening clinics”" in page
    assert "Both about evenings" in page


def test_author_edits_a_comment_for_a_short_while(client, community, idea, member):
    comment = services.add_comment(idea=idea, user=member, text="Frist")
    client.force_login(member)
    url = reverse("improvement:comment_edit", args=[community.slug, idea.pk, comment.pk])
    client.post(url, {"text": "First"})
    comment.refresh_from_db()
    assert comment.text == "First" and comment.edited_at
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(hours=1))
    client.post(url, {"text": "Changed later"})
    comment.refresh_from_db()
    assert comment.text == "First"


def test_someone_else_cannot_edit_a_comment(client, community, idea, member, coordinator):
    comment = services.add_comment(idea=idea, user=member, text="Mine")
    client.force_login(coordinator)
    url = reverse("improvement:comment_edit", args=[community.slug, idea.pk, comment.pk])
    assert client.post(url, {"text": "Theirs"}).status_code == 403


def test_report_then_hide_with_a_reason(
    client, community, idea, member, coordinator, django_capture_on_commit_callbacks
):
    writer = make_person("w@example.org", name="Wyn")
    from communities.models import Membership

    Membership.objects.create(user=writer, community=community)
    comment = services.add_comment(idea=idea, user=writer, text="Rude words")
    client.force_login(member)
    url = reverse("improvement:comment_report", args=[community.slug, idea.pk, comment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Unkind"})
    assert comment.reports.get().reason == "Unkind"
    client.force_login(coordinator)
    page = client.get(reverse("improvement:manage_reports", args=[community.slug]))
    assert "Rude words" in page.content.decode() and "Unkind" in page.content.decode()
    hide = reverse("improvement:manage_comment_hide", args=[community.slug, comment.pk])
    response = client.post(hide, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    client.post(hide, {"reason": "It was unkind to another member."})
    comment.refresh_from_db()
    assert comment.is_hidden and comment.text == "Rude words"
    public = client.get(idea.get_absolute_url()).content.decode()
    assert "It was unkind to another member." in public and "Rude words" not in public
    assert not comment.reports.filter(resolved_at__isnull=True).exists()


# --- Coordinators: decisions, status, merges ------------------------------------------------


def test_not_taken_forward_without_a_reason_is_refused_beside_the_field(
    client, community, idea, coordinator
):
    client.force_login(coordinator)
    url = reverse("improvement:manage_idea_decide", args=[community.slug, idea.pk])
    response = client.post(url, {"outcome": "not_taken_forward", "reason": "  "})
    assert response.status_code == 400
    assert "reason" in response.context["decision_form"].errors
    idea.refresh_from_db()
    assert idea.status == "new" and not idea.decisions.exists()


def test_a_decision_is_shown_on_the_idea_page(client, community, idea, coordinator):
    client.force_login(coordinator)
    url = reverse("improvement:manage_idea_decide", args=[community.slug, idea.pk])
    client.post(url, {"outcome": "not_taken_forward", "reason": "No room in the budget this year."})
    idea.refresh_from_db()
    assert idea.status == "not_taken_forward"
    page = client.get(idea.get_absolute_url()).content.decode()
    assert "Not taken forward" in page and "No room in the budget this year." in page
    assert "Decided by Cora" in page


def test_a_refused_status_change_says_why(client, community, idea, coordinator):
    client.force_login(coordinator)
    url = reverse("improvement:manage_idea_status", args=[community.slug, idea.pk])
    response = client.post(url, {"status-status": "done"})
    assert response.status_code == 400
    assert "status" in response.context["status_form"].errors
    client.post(url, {"status-status": "considering", "status-note": "Looking at costs"})
    idea.refresh_from_db()
    assert idea.status == "considering"


def test_merging_into_itself_or_a_merged_idea_is_refused(
    client, community, idea, member, coordinator
):
    a = services.add_idea(community=community, by=member, title="A", description="a")
    b = services.add_idea(community=community, by=member, title="B", description="b")
    services.merge_ideas(source=b, target=a, by=coordinator, note="same")
    client.force_login(coordinator)
    url = reverse("improvement:manage_idea_merge", args=[community.slug, idea.pk])
    for target in (idea, b):
        response = client.post(url, {"merge-target": target.pk, "merge-note": "x"})
        assert response.status_code == 400
        assert "target" in response.context["merge_form"].errors
    idea.refresh_from_db()
    assert idea.status == "new"


def test_coordinator_turns_a_key_point_into_an_idea(
    client, community, session, key_point, member, coordinator
):
    Registration.objects.create(session=session, user=member, status="registered", attended=True)
    client.force_login(coordinator)
    url = reverse("improvement:manage_idea_from_key_point", args=[community.slug, key_point.pk])
    page = client.get(url)
    assert page.context["form"].initial["title"] == key_point.text
    client.post(url, {"title": "Send letters sooner", "description": key_point.text})
    idea = Idea.objects.get()
    assert (idea.source, idea.session, idea.key_point) == ("session", session, key_point)
    assert list(Idea.objects.filter(pk=idea.pk).contributors().members) == [member]


def test_coordinator_turns_a_survey_answer_into_an_idea(
    client, community, answer, member, coordinator
):
    client.force_login(coordinator)
    url = reverse("improvement:manage_idea_from_answer", args=[community.slug, answer.pk])
    client.post(url, {"title": "Plain words in letters", "description": answer.text})
    idea = Idea.objects.get()
    assert idea.source == "survey" and idea.survey_answer == answer
    assert list(Idea.objects.filter(pk=idea.pk).contributors().members) == [member]
    results = client.get(
        reverse(
            "engagement:manage_survey_results", args=[community.slug, answer.response.survey_id]
        )
    )
    assert url in results.content.decode()


def test_themes_are_managed_and_names_are_unique(client, community, coordinator):
    client.force_login(coordinator)
    url = reverse("improvement:manage_themes", args=[community.slug])
    client.post(url, {"name": "Access", "description": "", "position": 0})
    response = client.post(url, {"name": "access", "description": "", "position": 1})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert list(Theme.objects.values_list("name", flat=True)) == ["Access"]


# --- Prioritisation through the pages --------------------------------------------------------


def test_scores_outside_one_to_five_or_after_closing_are_refused(
    client, community, round_, idea, member, coordinator
):
    services.invite_scorers(round=round_, people={member: "community"}, by=coordinator)
    services.open_round(round=round_)
    criterion = round_.criteria.first()
    url = reverse("improvement:round_score", args=[community.slug, round_.pk])
    field = f"score_{idea.pk}_{criterion.pk}"
    client.force_login(member)
    response = client.post(url, {field: "6"})
    assert response.status_code == 200
    assert "from 1 to 5" in str(response.context["form"].errors[field])
    client.post(url, {field: "4"})
    assert criterion.scores.get().value == 4
    services.close_round(round=round_)
    response = client.post(url, {field: "2"})
    assert "not open" in str(response.context["form"].non_field_errors())
    assert criterion.scores.get().value == 4


def test_results_show_both_views_side_by_side(client, community, round_, idea, coordinator):
    patient = make_person("pat@example.org", name="Pat")
    doctor = make_person("doc@example.org", name="Dr Lee")
    from communities.models import Membership

    for person in (patient, doctor):
        Membership.objects.create(user=person, community=community)
    services.invite_scorers(
        round=round_, people={patient: "community", doctor: "professional"}, by=coordinator
    )
    services.open_round(round=round_)
    values = {c.pk: 5 for c in round_.criteria.all()}
    scorers = {s.user_id: s for s in round_.scorers.all()}
    services.record_scores(
        round=round_,
        scorer=scorers[patient.pk],
        values={(idea.pk, c): v for c, v in values.items()},
    )
    services.record_scores(
        round=round_, scorer=scorers[doctor.pk], values={(idea.pk, c): 2 for c in values}
    )
    client.force_login(coordinator)
    url = reverse("improvement:manage_round_status", args=[community.slug, round_.pk])
    client.post(url, {"action": "close"})
    round_.refresh_from_db()
    assert round_.status == PrioritisationRound.Status.CLOSED
    page = client.get(reverse("improvement:manage_round_results", args=[community.slug, round_.pk]))
    text = page.content.decode()
    assert "community members scored it higher (5.0) than professionals (2.0)" in text
    client.post(
        reverse("improvement:manage_round_results", args=[community.slug, round_.pk]),
        {"ideas": [idea.pk]},
    )
    idea.refresh_from_db()
    assert idea.status == "prioritised"


# --- Query counts ----------------------------------------------------------------------------


def _many_ideas(community, member, n):
    themes = [Theme.objects.create(community=community, name=f"Theme {i}") for i in range(3)]
    people = [make_person(f"p{i}@example.org") for i in range(3)]
    for i in range(n):
        idea = Idea.objects.create(
            community=community, title=f"Idea {i}", description="d", author=member
        )
        idea.themes.set(themes[: i % 3 + 1])
        for person in people[: i % 3]:
            Support.objects.create(idea=idea, user=person)
        Comment.objects.create(idea=idea, author=member, text="c")


@pytest.mark.parametrize("n", [3, 300])
def test_idea_list_queries_do_not_grow(client, community, member, n, django_assert_num_queries):
    _many_ideas(community, member, n)
    client.force_login(member)
    url = reverse("improvement:ideas", args=[community.slug])
    # session, user, community, the revisions of what the list keeps (one query), themes
    # for the filter (kept after), membership, the count of the ideas found, the page of
    # ideas (with their kept counts) and their themes.
    for queries in (8, 7):
        with django_assert_num_queries(queries):
            response = client.get(url, {"sort": "supported", "q": "Idea"})
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(n, 20)


@pytest.mark.parametrize("sort", ["newest", "supported", "decided"])
def test_every_page_read_from_either_end_lists_each_idea_once_in_order(
    client, community, member, sort
):
    """Pages nearer the end are read from the end: page by page, the list is the whole
    ordering, each idea once, whatever the page's distance from either end."""
    _many_ideas(community, member, 47)  # three pages: the middle one is nearer neither end
    Idea.objects.filter(community=community, pk__gt=Idea.objects.order_by("pk")[20].pk).update(
        decided_at=timezone.now()
    )
    Idea.objects.all().recount()  # rows made directly: counted as the services do
    url = reverse("improvement:ideas", args=[community.slug])
    seen = []
    for number in (1, 2, 3):
        seen += [
            card.pk
            for card in client.get(url, {"sort": sort, "page": number}).context["page"].object_list
        ]
    order = {
        "newest": ["-created_at", "-pk"],
        "supported": ["-support_count", "-created_at", "-pk"],
        "decided": [F("decided_at").desc(nulls_last=True), "-created_at", "-pk"],
    }[sort]
    assert seen == list(
        Idea.objects.filter(community=community).order_by(*order).values_list("pk", flat=True)
    )


def test_the_number_of_ideas_is_kept_and_follows_new_and_merged_ideas(
    client, community, member, coordinator
):
    _many_ideas(community, member, 3)
    url = reverse("improvement:ideas", args=[community.slug])

    def count():
        return client.get(url).context["page"].paginator.count

    assert count() == 3
    added = services.add_idea(community=community, by=member, title="New", description="d")
    assert count() == 4
    first = Idea.objects.filter(community=community).exclude(pk=added.pk).first()
    services.merge_ideas(source=added, target=first, by=coordinator, note="The same.")
    assert count() == 3


@pytest.mark.parametrize("sort", ["newest", "supported", "decided"])
@pytest.mark.parametrize("n", [3, 300])
def test_the_last_page_of_ideas_costs_the_same(
    client, community, member, n, sort, django_assert_num_queries
):
    _many_ideas(community, member, n)
    Idea.objects.filter(community=community, pk__gt=Idea.objects.order_by("pk")[n // 2].pk).update(
        decided_at=timezone.now()
    )
    Idea.objects.all().recount()  # rows made directly: counted as the services do
    url = reverse("improvement:ideas", args=[community.slug])
    last = (n + 19) // 20
    # A visitor: community, the revisions of what the list keeps (one query), themes for the
    # filter and the number of standing ideas (both kept after), the page (its ids found in
    # an index from whichever end is nearer, its rows read by id, with their themes).
    with django_assert_num_queries(5):
        client.get(url, {"sort": sort, "page": last})
    with django_assert_num_queries(3):
        response = client.get(url, {"sort": sort, "page": last})
    shown = response.context["page"].object_list
    assert len(shown) == n - (last - 1) * 20
    everything = list(
        Idea.objects.filter(community=community).order_by(
            *{
                "newest": ["-created_at", "-pk"],
                "supported": ["-support_count", "-created_at", "-pk"],
                "decided": [F("decided_at").desc(nulls_last=True), "-created_at", "-pk"],
            }[sort]
        )
    )
    assert [card.pk for card in shown] == [idea.pk for idea in everything[(last - 1) * 20 :]]
    text = response.content.decode()
    for idea in shown:
        assert f"{idea.support_count} supporter" in text


@pytest.mark.parametrize("n", [3, 300])
def test_idea_page_queries_do_not_grow(
    client, community, member, coordinator, n, django_assert_num_queries
):
    idea = services.add_idea(community=community, by=member, title="Big", description="d")
    for i in range(n):
        person = make_person(f"s{i}@example.org")
        Support.objects.create(idea=idea, user=person)
        Comment.objects.create(idea=idea, author=person, text=f"comment {i}")
    Idea.objects.filter(pk=idea.pk).recount()  # rows made directly: counted as the services do
    services.decide(idea=idea, outcome="adopt", reason="Yes", by=coordinator)
    client.force_login(member)
    # session, user, the idea (with its community, author, session and survey, its counts
    # and whether the reader supports it), membership, the revisions of all the page keeps
    # (one query); the number of comments and a page of them (with their authors); the
    # record: themes, updates about it, projects on it, merged ideas, decisions (its own and
    # its merged ideas' in one), history. (18 when the counts were a query of their own; 15
    # when the community, "do I support it" and the merged ideas' decisions were queries of
    # their own.)
    with django_assert_num_queries(13):
        response = client.get(idea.get_absolute_url())
    assert response.status_code == 200
    # Seen again, the record and the discussion are kept: the page reads their revisions.
    with django_assert_num_queries(5):
        again = client.get(idea.get_absolute_url())
    assert again.context["record"] == response.context["record"]
    assert response.context["counts"] == {"support_count": n, "comment_count": n}
    assert len(response.context["comments"].object_list) == min(n, 50)


def test_the_idea_page_shows_updates_about_it_and_about_ideas_merged_into_it(
    client, community, coordinator, member, idea
):
    merged = services.add_idea(
        community=community, by=member, title="Late clinics", description="Open till eight."
    )
    elsewhere = services.add_idea(
        community=community, by=member, title="Parking", description="More spaces."
    )

    def publish(title, *ideas, published=True):
        update = Update.objects.create(
            community=community, title=title, what_we_heard="h", what_we_did=f"Did: {title}."
        )
        update.ideas.add(*ideas)
        if published:
            services.publish_update(update=update, by=coordinator)

    publish("About the merged idea", merged)
    publish("About both", idea, merged)
    publish("About parking", elsewhere)
    publish("Still a draft", idea, published=False)
    services.merge_ideas(source=merged, target=idea, by=coordinator, note="The same.")
    publish("About the idea", idea)
    response = client.get(idea.get_absolute_url())
    shown = [u.title for u in response.context["updates"]]
    assert shown == ["About the idea", "About both", "About the merged idea"]
    assert "Did: About both." in response.content.decode()
