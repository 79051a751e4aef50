"""Who an idea's input came from: every path into `IdeaQuerySet.contributors()`."""

import random

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagement.models import Participation, Registration, Response, Survey
from improvement import services
from improvement.models import Comment, Idea, OnBehalfContact, Support, Update
from members.models import User
from tests.conftest import make_person
from tests.improvement.factories import (
    came,
    key_point,
    make_idea,
    past_session,
    survey_answer,
)

pytestmark = pytest.mark.django_db


def contributors_of(*ideas):
    return Idea.objects.filter(pk__in=[i.pk for i in ideas]).contributors()


def people(contributors) -> list:
    return list(contributors.members)


def test_the_author_contributed(community, member):
    idea = make_idea(community, author=member)
    found = contributors_of(idea)
    assert people(found) == [member]
    assert found.on_behalf == []
    assert len(found) == 1


def test_someone_entered_from_paper_who_agreed_to_be_contacted_is_listed_apart(community, partner):
    idea = services.add_idea(
        community=community,
        by=partner,
        title="A bench by the bus stop",
        description="Somewhere to sit while waiting.",
        source=Idea.Source.PAPER,
        on_behalf={
            "on_behalf_of": "Mrs Begum",
            "contact_by": "phone",
            "contact_details": "  0114 496 0000 ",
        },
    )
    found = contributors_of(idea)
    # The partner typed it in: they are not its author.
    assert people(found) == []
    assert found.on_behalf == [OnBehalfContact("Mrs Begum", "phone", "0114 496 0000")]
    assert found.on_behalf[0].contact_label == "Phone"
    assert len(found) == 1


def test_someone_entered_from_paper_who_did_not_agree_to_be_contacted_is_left_out(
    community, partner
):
    idea = services.add_idea(
        community=community,
        by=partner,
        title="A bench by the bus stop",
        description="Somewhere to sit while waiting.",
        source=Idea.Source.PAPER,
        on_behalf={
            "on_behalf_of": "A parent at the drop-in",
            "contact_by": "",
            "contact_details": "",
        },
    )
    found = contributors_of(idea)
    assert people(found) == [] and found.on_behalf == []
    assert len(found) == 0


def test_supporters_contributed(community, member, partner):
    idea = make_idea(community)
    Support.objects.create(idea=idea, user=member)
    Support.objects.create(idea=idea, user=partner)
    assert set(people(contributors_of(idea))) == {member, partner}


def test_commenters_contributed_even_when_their_comment_was_hidden(
    community, member, partner, coordinator
):
    idea = make_idea(community)
    Comment.objects.create(idea=idea, author=member, text="Yes please.")
    Comment.objects.create(
        idea=idea,
        author=partner,
        text="Off topic.",
        hidden_at=timezone.now(),
        hidden_by=coordinator,
        hidden_reason="Off topic.",
    )
    assert set(people(contributors_of(idea))) == {member, partner}


def test_a_comment_whose_author_is_gone_adds_nobody(community, member):
    idea = make_idea(community)
    Comment.objects.create(idea=idea, author=None, text="From someone whose row is gone.")
    assert people(contributors_of(idea)) == []


def test_a_members_survey_answer_makes_them_a_contributor(community, coordinator, member):
    answer = survey_answer(community, user=member)
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Send letters earlier",
        description="A week before, not a day.",
        survey_answer=answer,
    )
    assert idea.source == Idea.Source.SURVEY and idea.survey == answer.response.survey
    assert people(contributors_of(idea)) == [member]


def test_an_anonymous_survey_answer_adds_nobody(community, coordinator):
    answer = survey_answer(community, user=None)
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Send letters earlier",
        description="A week before, not a day.",
        survey_answer=answer,
    )
    found = contributors_of(idea)
    assert people(found) == [] and found.on_behalf == []


def test_a_paper_survey_answer_with_consent_adds_a_contact(community, coordinator):
    answer = survey_answer(
        community,
        on_behalf_of="Mr Okafor",
        contact_by="post",
        contact_details="12 Firth Park Road, Sheffield",
        entered_by=coordinator,
    )
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Send letters earlier",
        description="A week before, not a day.",
        survey_answer=answer,
    )
    found = contributors_of(idea)
    assert people(found) == []
    assert found.on_behalf == [
        OnBehalfContact("Mr Okafor", "post", "12 Firth Park Road, Sheffield")
    ]


def test_a_paper_survey_answer_without_consent_adds_nobody(community, coordinator):
    answer = survey_answer(community, on_behalf_of="Mr Okafor", entered_by=coordinator)
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Send letters earlier",
        description="A week before, not a day.",
        survey_answer=answer,
    )
    assert contributors_of(idea).on_behalf == []


@pytest.mark.parametrize(("attended", "counted"), [(True, True), (False, False), (None, False)])
def test_people_who_came_to_the_session_an_idea_was_made_at(
    community, coordinator, member, attended, counted
):
    session = past_session(community)
    came(session, member, attended=attended)
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Letters before appointments",
        description="Heard at the drop-in.",
        key_point=key_point(session),
    )
    assert idea.source == Idea.Source.SESSION and idea.session == session
    assert (member in people(contributors_of(idea))) is counted


def test_only_the_session_the_idea_came_from_counts(community, coordinator, member, partner):
    here, elsewhere = past_session(community), past_session(community, title="Another one")
    came(here, member)
    came(elsewhere, partner)
    idea = services.add_idea(
        community=community,
        by=coordinator,
        title="Letters before appointments",
        description="Heard at the drop-in.",
        key_point=key_point(here),
    )
    assert people(contributors_of(idea)) == [member]


def test_an_ideas_contributors_include_everything_merged_into_it(
    community, coordinator, member, partner
):
    target = make_idea(community, title="Clearer letters", author=coordinator)
    author, supporter, commenter, answerer, visitor = (
        make_person(f"{n}@example.org", name=n.title())
        for n in ("author", "supporter", "commenter", "answerer", "visitor")
    )
    source = make_idea(community, title="Plain English letters", author=author)
    Support.objects.create(idea=source, user=supporter)
    Comment.objects.create(idea=source, author=commenter, text="Please.")
    # Sources of merged ideas count too: an answer and a session another idea came from.
    from_answer = services.add_idea(
        community=community,
        by=coordinator,
        title="Letters earlier",
        description="From the survey.",
        survey_answer=survey_answer(community, user=answerer),
    )
    session = past_session(community)
    came(session, visitor)
    from_session = services.add_idea(
        community=community,
        by=partner,
        title="Letters at the drop-in",
        description="Heard there.",
        key_point=key_point(session),
    )
    before = set(people(contributors_of(target)))
    assert before == {coordinator}

    for idea in (source, from_answer, from_session):
        services.merge_ideas(source=idea, target=target, by=coordinator, note="Same thing.")

    found = set(people(contributors_of(target)))
    assert found == {coordinator, author, supporter, commenter, answerer, visitor}
    assert member not in found


def test_chains_of_merges_flatten_into_the_last_idea(community, coordinator):
    a = make_idea(community, title="A")
    b_author, c_author, c_supporter = (
        make_person(f"{n}@example.org") for n in ("b-author", "c-author", "c-supporter")
    )
    b = make_idea(community, title="B", author=b_author)
    c = make_idea(community, title="C", author=c_author)
    Support.objects.create(idea=c, user=c_supporter)

    services.merge_ideas(source=c, target=b, by=coordinator, note="C is B.")
    services.merge_ideas(source=b, target=a, by=coordinator, note="B is A.")

    c.refresh_from_db()
    assert c.merged_into == a  # straight to the idea that stands, not through B
    assert set(people(contributors_of(a))) == {b_author, c_author, c_supporter}


def test_people_who_deleted_their_account_or_were_deactivated_are_left_out(community, member):
    idea = make_idea(community, author=member)
    erased = make_person("erased@example.org")
    erased.erased_at = timezone.now()
    erased.save()
    inactive = make_person("inactive@example.org")
    inactive.is_active = False
    inactive.save()
    Support.objects.create(idea=idea, user=erased)
    Comment.objects.create(idea=idea, author=inactive, text="Agreed.")
    assert people(contributors_of(idea)) == [member]


def test_each_person_appears_once(community, coordinator, member):
    idea = make_idea(community, author=member)
    Support.objects.create(idea=idea, user=member)
    Comment.objects.create(idea=idea, author=member, text="One.")
    Comment.objects.create(idea=idea, author=member, text="Two.")
    other = make_idea(community, title="Another", author=member)
    Support.objects.create(idea=other, user=coordinator)
    services.merge_ideas(source=other, target=idea, by=coordinator, note="Same.")
    found = contributors_of(idea)
    assert people(found) == sorted([member, coordinator], key=lambda u: u.pk)
    assert len(found) == 2


def test_the_same_paper_contact_twice_appears_once(community, coordinator):
    common = {"on_behalf_of": "Mrs Begum", "contact_by": "email"}
    first = make_idea(community, contact_details="Begum@Example.org", **common)
    second = make_idea(community, contact_details="  begum@example.org ", **common)
    answer = survey_answer(community, contact_details="BEGUM@example.org", **common)
    third = services.add_idea(
        community=community, by=coordinator, title="T", description="D", survey_answer=answer
    )
    found = contributors_of(first, second, third)
    assert len(found.on_behalf) == 1
    assert found.on_behalf[0].contact_by == "email"
    assert len(found) == 1


def test_different_ways_to_reach_people_are_different_contacts(community):
    first = make_idea(
        community, on_behalf_of="Mrs Begum", contact_by="phone", contact_details="0114 496 0000"
    )
    second = make_idea(
        community, on_behalf_of="Mr Okafor", contact_by="phone", contact_details="0114 496 0999"
    )
    assert {c.name for c in contributors_of(first, second).on_behalf} == {"Mrs Begum", "Mr Okafor"}


def test_contributors_of_several_ideas_are_all_of_theirs_and_no_one_elses(
    community, coordinator, partner, member, outsider
):
    first = make_idea(community, author=member)
    second = make_idea(community, title="Second")
    Support.objects.create(idea=second, user=partner)
    unrelated = make_idea(community, title="Unrelated", author=outsider)
    Support.objects.create(idea=unrelated, user=coordinator)
    assert set(people(contributors_of(first, second))) == {member, partner}
    assert people(contributors_of(first)) == [member]


def test_no_ideas_no_contributors(community):
    found = Idea.objects.none().contributors()
    assert people(found) == [] and found.on_behalf == [] and len(found) == 0


def idea_with_every_kind_of_input(community, coordinator, n: int) -> Idea:
    author, supporter, commenter, answerer, visitor = (
        make_person(f"{kind}-{n}@example.org")
        for kind in ("author", "supporter", "commenter", "answerer", "visitor")
    )
    idea = make_idea(
        community,
        title=f"Idea {n}",
        author=author,
        on_behalf_of=f"Paper {n}",
        contact_by="phone",
        contact_details=f"0114 496 {n:04}",
    )
    Support.objects.create(idea=idea, user=supporter)
    Comment.objects.create(idea=idea, author=commenter, text="Yes.")
    services.add_idea(
        community=community,
        by=coordinator,
        title=f"From an answer {n}",
        description="D",
        survey_answer=survey_answer(
            community, user=answerer, text=f"Answer {n}", contact_by="", contact_details=""
        ),
    )
    session = past_session(community, title=f"Session {n}")
    came(session, visitor)
    services.add_idea(
        community=community,
        by=coordinator,
        title=f"From a session {n}",
        description="D",
        key_point=key_point(session),
    )
    merged = make_idea(community, title=f"Merged {n}", author=make_person(f"m-{n}@example.org"))
    services.merge_ideas(source=merged, target=idea, by=coordinator, note="Same.")
    return idea


def queries_for_contributors(queryset) -> tuple[int, int, int]:
    with CaptureQueriesContext(connection) as building:
        found = queryset.contributors()
    with CaptureQueriesContext(connection) as listing:
        members = list(found.members)
    return len(building), len(listing), len(members) + len(found.on_behalf)


def test_finding_contributors_takes_the_same_queries_for_few_ideas_or_many(
    community, coordinator, django_assert_num_queries
):
    for n in range(1):
        idea_with_every_kind_of_input(community, coordinator, n)
    few = queries_for_contributors(Idea.objects.filter(community=community))
    for n in range(1, 6):
        idea_with_every_kind_of_input(community, coordinator, n)
    many = queries_for_contributors(Idea.objects.filter(community=community))

    assert many[2] > few[2]  # more people found…
    assert many[:2] == few[:2]  # …with no more queries
    found = Idea.objects.filter(community=community).contributors()
    with django_assert_num_queries(1):
        assert len(list(found.members)) == 6 * 6  # six people for each of six ideas
    assert len(found.on_behalf) == 6


# --- The same people as the query this one replaced, on a random community ---------------------


def contributors_the_old_way(ideas) -> list[int]:
    """Who contributed, found as before: one member query with a subquery per source joined
    by OR. Slow on a large community, but plainly right; the reference for the fast one."""
    ids = ideas.values("pk")
    group = Idea.objects.filter(Q(pk__in=ids) | Q(merged_into__in=ids))
    ids = group.values("pk")
    members = User.objects.filter(
        Q(pk__in=group.values("author"))
        | Q(pk__in=Support.objects.filter(idea__in=ids).values("user"))
        | Q(pk__in=Comment.objects.filter(idea__in=ids).values("author"))
        | Q(pk__in=Response.objects.filter(ideas__in=ids).values("user"))
        | Q(
            pk__in=Registration.objects.filter(attended=True, session__ideas__in=ids).values("user")
        ),
        is_active=True,
        erased_at__isnull=True,
    )
    return sorted(members.values_list("pk", flat=True))


def audience_the_old_way(update) -> list[int]:
    ideas = contributors_the_old_way(Idea.objects.filter(pk__in=update.ideas.values("pk")))
    members = User.objects.filter(
        Q(pk__in=ideas)
        | Q(
            pk__in=Registration.objects.filter(
                attended=True, session__in=update.sessions.all()
            ).values("user")
        )
        | Q(pk__in=Participation.objects.filter(survey__in=update.surveys.all()).values("user")),
        is_active=True,
        erased_at__isnull=True,
    )
    return sorted(members.values_list("pk", flat=True))


def _random_engagement(community, rng, people):
    """Sessions with attendance (some came, some did not, some not recorded) and surveys
    with responses, some without a name."""
    sessions = [past_session(community, title=f"Session {n}") for n in range(4)]
    for session in sessions:
        for person in rng.sample(people, 8):
            came(session, person, attended=rng.choice([True, True, False, None]))
    surveys = [
        Survey.objects.create(community=community, title=f"Survey {n}", published=True)
        for n in range(2)
    ]
    responses = []
    for survey in surveys:
        for person in rng.sample(people, 8):
            anonymous = rng.random() < 0.25
            responses.append(
                Response.objects.create(survey=survey, user=None if anonymous else person)
            )
            Participation.objects.create(survey=survey, user=person)
    return sessions, surveys, responses


def random_community(community, seed: int):
    """People (some deactivated or erased), ideas (some merged, some from sessions or survey
    answers), support, comments, sessions with attendance and surveys, joined up at random."""
    rng = random.Random(seed)
    people = [make_person(f"p{seed}-{n}@example.org") for n in range(40)]
    User.objects.filter(pk__in=[p.pk for p in rng.sample(people, 4)]).update(is_active=False)
    User.objects.filter(pk__in=[p.pk for p in rng.sample(people, 4)]).update(
        erased_at=timezone.now()
    )
    sessions, surveys, responses = _random_engagement(community, rng, people)
    ideas = []
    for n in range(24):
        source = rng.choice(["online", "online", "session", "survey", "paper"])
        ideas.append(
            make_idea(
                community,
                title=f"Idea {n}",
                author=rng.choice(people) if source == "online" else None,
                source=source,
                session=rng.choice(sessions) if source == "session" else None,
                survey_response=rng.choice(responses) if source == "survey" else None,
            )
        )
        for person in rng.sample(people, rng.randint(0, 6)):
            Support.objects.create(idea=ideas[-1], user=person)
        for _ in range(rng.randint(0, 3)):
            Comment.objects.create(idea=ideas[-1], author=rng.choice([*people, None]), text="Yes.")
    standing, merged = ideas[:16], ideas[16:]
    for idea in merged:  # merges are flattened: each points at an idea that stands
        Idea.objects.filter(pk=idea.pk).update(status="merged", merged_into=rng.choice(standing))
    return rng, standing, sessions, surveys


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contributors_are_the_people_the_old_query_found(community, seed):
    rng, standing, sessions, surveys = random_community(community, seed)
    for size in (1, 3, 8, 16):
        chosen = Idea.objects.filter(pk__in=[i.pk for i in rng.sample(standing, size)])
        members = chosen.contributors().members
        expected = contributors_the_old_way(chosen)
        assert list(members.values_list("pk", flat=True)) == expected, (seed, size)
        assert members.count() == len(expected)
    everything = Idea.objects.filter(community=community)
    expected = contributors_the_old_way(everything)
    assert len(expected) > 20  # most people gave something; the inactive and erased did not
    assert list(everything.contributors().members.values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_updates_audience_is_the_people_the_old_query_found(community, coordinator, seed):
    rng, standing, sessions, surveys = random_community(community, seed)
    update = Update.objects.create(
        community=community,
        title="What we did",
        what_we_heard="h",
        what_we_did="d",
        created_by=coordinator,
    )
    update.ideas.set(rng.sample(standing, 5))
    update.sessions.set(rng.sample(sessions, 2))
    update.surveys.set(rng.sample(surveys, 1))
    members = update.audience().members
    expected = audience_the_old_way(update)
    assert expected and list(members.values_list("pk", flat=True)) == expected
    update.ideas.clear()
    update.surveys.clear()
    assert list(members.values_list("pk", flat=True)) == audience_the_old_way(update)


def test_the_members_can_be_counted_listed_by_email_and_walked_in_batches_by_pk(community):
    random_community(community, seed=7)
    members = Idea.objects.filter(community=community).contributors().members
    everyone = list(members.values_list("pk", flat=True))
    assert len(everyone) > 10 and everyone == sorted(everyone)
    assert members.count() == len(everyone)
    emails = set(members.values_list("email", flat=True))
    assert emails == set(User.objects.filter(pk__in=everyone).values_list("email", flat=True))
    walked, last = [], 0
    while batch := list(members.filter(pk__gt=last).order_by("pk")[:4]):
        walked += [person.pk for person in batch]
        last = batch[-1].pk
    assert walked == everyone
