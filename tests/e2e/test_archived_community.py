"""A member finds an archived community from the home page and reads it: every page is
axe-clean at 320 px, and none offers a change the community would refuse."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Community, Membership
from engagement.models import Question, Session, Survey
from tests.conftest import make_community, make_person
from tests.improvement.factories import join, make_idea

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def archived():
    make_community("heart-health", name="Heart health")
    community = make_community(
        "bowel-care",
        name="Bowel care together",
        legacy_note="We changed how clinic letters are sent. Carry on with Heart health.",
    )
    member = join(community, make_person("michael@example.org", name="Michael"))
    idea = make_idea(community, author=member)
    soon = timezone.now() + timedelta(days=2)
    session = Session.objects.create(
        community=community,
        title="Letters clinic",
        kind=Session.Kind.DROP_IN,
        starts_at=soon,
        ends_at=soon + timedelta(hours=2),
        status=Session.Status.PUBLISHED,
        registration_required=True,
    )
    survey = Survey.objects.create(community=community, title="What would help?", published=True)
    Question.objects.create(survey=survey, text="What one thing?", kind=Question.Kind.LONG_TEXT)
    Community.objects.filter(pk=community.pk).update(status=Community.Status.ARCHIVED)
    return member, idea, session, survey


def test_a_member_reads_an_archived_community(
    page, live_server, assert_accessible, log_in, archived
):
    member, idea, session, survey = archived
    log_in(page, member)
    page.goto(live_server.url + "/")
    assert_accessible(page)
    past = page.get_by_role("region", name="Past and closing communities")
    assert "Carry on with Heart health." in past.inner_text()
    past.get_by_role("link", name="Bowel care together").click()
    page.wait_for_url("**/c/bowel-care/")
    assert_accessible(page)
    for address in (
        "/c/bowel-care/ideas/",
        idea.get_absolute_url(),
        session.get_absolute_url(),
        survey.get_absolute_url(),
    ):
        page.goto(live_server.url + address)
        assert_accessible(page)
        assert page.get_by_text("its record can be read but not changed").is_visible(), address
        assert page.locator("main form[method=post]").count() == 0, address


def test_a_coordinator_reads_an_archived_communitys_management_pages(
    page, live_server, assert_accessible, log_in, archived
):
    """Edit pages show their fields disabled, with the note and nothing to send."""
    _member, idea, session, survey = archived
    coordinator = make_person("cora@example.org", name="Cora")
    community = Community.objects.get(slug="bowel-care")
    Membership.objects.create(user=coordinator, community=community, role="coordinator")
    log_in(page, coordinator)
    for address in (
        reverse("communities:manage_edit", args=["bowel-care"]),
        reverse("communities:manage_requests", args=["bowel-care"]),
        reverse("engagement:manage_session_edit", args=["bowel-care", session.pk]),
        reverse("engagement:manage_payment_settings", args=["bowel-care"]),
        reverse("engagement:manage_survey", args=["bowel-care", survey.pk]),
        reverse("improvement:manage_idea", args=["bowel-care", idea.pk]),
        reverse("improvement:manage_themes", args=["bowel-care"]),
    ):
        page.goto(live_server.url + address)
        assert_accessible(page)
        assert page.get_by_text("its record can be read but not changed").is_visible(), address
        assert page.locator("main form[method=post]").count() == 0, address
