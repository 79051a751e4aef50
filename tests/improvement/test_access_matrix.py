"""Every may_* of engagement and improvement, for every persona: one table saying who may.

Each rule is asked twice, once loading the membership itself and once given it (as views
that have it loaded do): both must give the same answer, with no query in the second.
"""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from communities.access import NOT_LOADED, get_membership
from communities.models import Membership
from engagement import access as engagement
from engagement import payments
from engagement.models import Rate, Survey, Venue
from improvement import access as improvement
from improvement import services
from improvement.models import TeamMember
from tests.conftest import PERSONAS, make_person
from tests.engagement.test_sessions import make_session
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db

# The shared personas, and someone who has asked to join and is not yet let in.
ASKED = [*PERSONAS, "requested"]
EVERYONE = set(ASKED)
RUNNERS = {"partner", "coordinator", "staff"}
MANAGERS = {"coordinator", "staff"}
MEMBERS = {"member", "partner", "coordinator"}


@pytest.fixture
def requested(community):
    asking = make_person("rhea@example.org", name="Rhea")
    Membership.objects.create(user=asking, community=community, status="requested")
    return asking


@pytest.fixture
def people(everyone, requested):
    # The rules are asked about the person a view has: a visitor is Django's AnonymousUser.
    return {**everyone, "anonymous": AnonymousUser(), "requested": requested}


@pytest.fixture
def things(community, coordinator, people):
    Rate.objects.create(
        community=community,
        activity="training",
        basis="hour",
        amount="20",
        valid_from=date(2026, 1, 1),
    )
    claimant = make_person("cal@example.org", name="Cal")
    Membership.objects.create(user=claimant, community=community)
    claim = payments.submit_claim(
        community=community,
        claimant=claimant,
        by=claimant,
        expenses=[],
        request=payments.ClaimRequest(
            kind="hours", activity="training", date=date(2026, 5, 1), hours=2
        ),
    )
    shared = Venue.objects.create(community=community, name="Hall", kind="other")
    make_session(community, venue=shared).facilitators.add(coordinator)
    project = new_project(community, coordinator)
    return {
        "community": community,
        "members_survey": Survey.objects.create(
            community=community, title="For members", published=True, audience="members"
        ),
        "public_survey": Survey.objects.create(
            community=community, title="For anyone", published=True, audience="anyone"
        ),
        "claim": claim,
        "venue": shared,
        "project": project,
        "comment": services.add_comment(
            idea=make_idea(community), user=people["member"], text="Letters come late."
        ),
    }


def new_project(community, coordinator):
    return services.create_project(
        community=community,
        by=coordinator,
        title="Letters on time",
        aim_what="Letters arrive before the appointment",
        aim_how_much="from 40% to 90%",
        aim_by_when=date(2027, 3, 31),
        driver_diagram="",
    )


# (rule, what it is asked about, who may). Coordinators choose a project's team and edit
# it; the team (here only the coordinator who started it) edits it too.
TABLE = [
    (engagement.may_run_sessions, "community", RUNNERS),
    (engagement.may_answer, "members_survey", MEMBERS),
    (engagement.may_answer, "public_survey", EVERYONE),
    (engagement.may_decide_claim, "claim", MANAGERS),
    (engagement.may_change_venue, "venue", MANAGERS),
    (improvement.may_take_part, "community", MEMBERS | {"staff"}),
    (improvement.may_enter_on_behalf, "community", RUNNERS),
    (improvement.may_edit_project, "project", MANAGERS),
    (improvement.may_choose_team, "project", MANAGERS),
    (improvement.may_edit_comment, "comment", {"member"}),  # its author, for a while
    (improvement.may_see_names, "community", MEMBERS | {"staff"}),
    # What pages offer, in a community that is not archived (tests/test_archived.py has the
    # archived side): adding an idea asks a member to agree the rules first, so it is
    # offered to every active member; staff take part without a membership.
    (improvement.may_add_idea, "community", MEMBERS),
    (improvement.may_add_idea_for_someone, "community", RUNNERS),
    (improvement.may_join_in, "community", MEMBERS | {"staff"}),
    (improvement.may_start_project, "community", MEMBERS | {"staff"}),
    (improvement.may_change_project, "project", MANAGERS),
]


def community_of(thing):
    if hasattr(thing, "idea"):
        return thing.idea.community
    return getattr(thing, "community", thing)


def ask(rule, person, thing, membership):
    if rule is improvement.may_edit_comment:
        return rule(person, thing)  # the author's own: no membership needed
    if rule is engagement.may_change_venue:
        others = engagement.venues_others_meet_at(person, thing.community).filter(pk=thing.pk)
        return rule(person, thing, membership, others_meet_there=others.exists())
    return rule(person, thing, membership)


@pytest.mark.parametrize(
    ("rule", "about", "allowed"), TABLE, ids=lambda v: getattr(v, "__name__", None)
)
@pytest.mark.parametrize("persona", ASKED)
def test_who_may(people, things, rule, about, allowed, persona, django_assert_num_queries):
    person, thing = people[persona], things[about]
    expected = persona in allowed
    assert ask(rule, person, thing, NOT_LOADED) is expected
    membership = get_membership(person, community_of(thing))
    if rule not in (
        engagement.may_change_venue,
        improvement.may_choose_team,
        improvement.may_edit_project,
        improvement.may_change_project,
    ):
        with django_assert_num_queries(0):
            assert ask(rule, person, thing, membership) is expected
    else:
        assert ask(rule, person, thing, membership) is expected


def test_a_team_member_edits_the_project_but_only_its_lead_chooses_the_team(
    community, coordinator, member, partner
):
    project = new_project(community, coordinator)
    services.set_team_member(project=project, user=member, role=TeamMember.Role.MEMBER)
    assert improvement.may_edit_project(member, project)
    assert not improvement.may_choose_team(member, project)
    assert not improvement.may_edit_project(partner, project)
    services.set_team_member(project=project, user=member, role=TeamMember.Role.LEAD)
    assert improvement.may_choose_team(member, project)


def test_the_person_who_made_a_claim_changes_it_and_nobody_else(people, things):
    claimant = things["claim"].claimant
    assert engagement.may_change_own_claim(claimant, things["claim"])
    for persona, person in people.items():
        assert not engagement.may_change_own_claim(person, things["claim"]), persona
