"""Who decides a claim, and who is told it is waiting: never whoever made or entered it;
site staff where the community has no other coordinator. The page offers the decision only to
those the service lets decide."""

from datetime import date

import pytest
from django.urls import reverse

from communities.models import Membership
from engagement import payments
from engagement.access import claim_actions, may_decide_claim
from engagement.models import Claim, PaymentError, Rate
from members.models import Notification
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

DAY = date(2026, 5, 1)


@pytest.fixture(autouse=True)
def rates(community):
    Rate.objects.create(
        community=community,
        activity="training",
        basis="hour",
        amount="20",
        valid_from=date(2026, 1, 1),
    )


@pytest.fixture
def cleo(community):
    person = make_person("cleo@example.org", name="Cleo")
    Membership.objects.create(user=person, community=community, role="coordinator")
    return person


def claim_for(community, person, *, by=None) -> Claim:
    return payments.submit_claim(
        community=community,
        claimant=person,
        by=by or person,
        request=payments.ClaimRequest(kind="hours", activity="training", date=DAY, hours=3),
        expenses=[],
    )


def told(kind: str) -> list[str]:
    rows = Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True)
    return sorted(rows)


def decide_url(claim) -> str:
    return reverse("engagement:claim_decide", args=[claim.community.slug, claim.pk])


def test_the_coordinator_who_entered_a_paper_claim_is_not_offered_the_decision(
    client, community, member, coordinator, cleo
):
    claim = claim_for(community, member, by=coordinator)
    assert told("claim_submitted") == ["cleo@example.org"]
    client.force_login(coordinator)
    page = client.get(claim.get_absolute_url())
    assert page.context["may"]["decide"] is False
    assert decide_url(claim) not in page.content.decode()
    response = client.post(decide_url(claim), {"action": "approve", "text": ""})
    assert response.status_code == 400
    assert "You entered this claim" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.decided_by is None


def test_another_coordinator_decides_a_paper_claim(client, community, member, coordinator, cleo):
    claim = claim_for(community, member, by=coordinator)
    client.force_login(cleo)
    page = client.get(claim.get_absolute_url())
    assert page.context["may"]["decide"] is True
    assert decide_url(claim) in page.content.decode()
    response = client.post(decide_url(claim), {"action": "approve", "text": ""})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by) == ("approved", cleo)


def test_a_lone_coordinators_own_claim_is_decided_by_staff_who_are_told(
    client, community, coordinator, staff
):
    claim = claim_for(community, coordinator)
    assert told("claim_submitted") == ["ada@example.org"]
    with pytest.raises(PaymentError, match="site staff"):
        payments.decide_claim(claim=claim, by=coordinator, action="approve")
    client.force_login(staff)
    assert client.get(claim.get_absolute_url()).context["may"]["decide"] is True
    assert client.post(decide_url(claim), {"action": "approve"}).status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by) == ("approved", staff)


def test_a_lone_coordinators_paper_claim_goes_to_staff(community, member, coordinator, staff):
    claim = claim_for(community, member, by=coordinator)
    assert told("claim_submitted") == ["ada@example.org"]
    payments.decide_claim(claim=claim, by=staff, action="approve")
    assert Claim.objects.get(pk=claim.pk).status == "approved"


def test_staff_are_not_told_where_another_coordinator_decides(community, coordinator, cleo, staff):
    claim_for(community, coordinator)
    assert told("claim_submitted") == ["cleo@example.org"]


def test_nobody_is_told_about_deciding_their_own_claim(community, coordinator, cleo, staff):
    claim = claim_for(community, cleo)
    payments.decide_claim(claim=claim, by=coordinator, action="query", text="Which day?")
    payments.answer_query(claim=claim, by=cleo, answer="The first")
    assert told("claim_submitted") == told("claim_answered") == ["cora@example.org"]


def test_a_coordinator_who_is_staff_is_not_told_about_their_own_claim(community, coordinator):
    sam = make_person("sam@example.org", name="Sam", is_staff=True)
    Membership.objects.create(user=sam, community=community, role="coordinator")
    ada = make_person("ada@example.org", name="Ada", is_staff=True)
    own = claim_for(community, sam)
    told_of_own = Notification.objects.filter(kind="claim_submitted", about_id=str(own.pk))
    assert list(told_of_own.values_list("recipient__email", flat=True)) == ["cora@example.org"]
    assert may_decide_claim(ada, own) and may_decide_claim(coordinator, own)
    assert not may_decide_claim(sam, own)


@pytest.mark.parametrize(
    ("status", "decisions", "pay", "answer", "withdraw"),
    [
        ("submitted", ["approve", "query", "reject"], False, False, True),
        ("queried", ["reject"], False, True, True),
        ("approved", [], True, False, False),
        ("rejected", [], False, False, False),
        ("paid", [], False, False, False),
        ("withdrawn", [], False, False, False),
    ],
)
def test_a_claims_page_offers_only_the_steps_its_status_allows(
    community, member, coordinator, status, decisions, pay, answer, withdraw
):
    claim = claim_for(community, member)
    claim.status = status
    coordinating = claim_actions(coordinator, claim)
    claiming = claim_actions(member, claim)
    assert coordinating["decisions"] == decisions
    assert (coordinating["decide"], coordinating["pay"]) == (bool(decisions), pay)
    assert (claiming["answer"], claiming["withdraw"]) == (answer, withdraw)
    assert not (coordinating["answer"] or coordinating["withdraw"])
    assert not (claiming["decide"] or claiming["pay"] or claiming["decisions"])


def test_a_claim_with_a_question_asked_offers_only_not_approving_it(
    client, community, member, coordinator
):
    claim = claim_for(community, member)
    payments.decide_claim(claim=claim, by=coordinator, action="query", text="Which day?")
    client.force_login(coordinator)
    form = client.get(claim.get_absolute_url()).context["decide_form"]
    assert [value for value, _label in form.fields["action"].choices] == ["reject"]
    # Sent anyway, approving is refused with the reason, and nothing changes.
    response = client.post(decide_url(claim), {"action": "approve"})
    assert response.status_code == 400
    assert "cannot become" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).status == "queried"
