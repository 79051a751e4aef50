"""Every page the ideas, updates, projects and payments work added, on the demo's data, as the
people who use it: axe-clean and no sideways scrolling at 320 px."""

import io

import pytest
from django.core.management import call_command

from communities.models import Community
from engagement.models import Claim
from improvement.models import Idea, Measure, PrioritisationRound, Project, Scorer, Update
from members.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEBUG = True  # the demo loads only on development sites
    settings.MEDIA_ROOT = tmp_path
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False
    return Community.objects.get(slug="ibd-together")


def _pages_for_coordinator(community) -> list[str]:
    base = f"/c/{community.slug}"
    idea = Idea.objects.filter(community=community).listed().exclude(decisions=None).first()
    round_ = PrioritisationRound.objects.filter(community=community).first()
    update = Update.objects.filter(community=community).published().first()
    draft = Update.objects.filter(community=community, status="draft").first()
    project = Project.objects.filter(community=community, measures__isnull=False).first()
    measure = Measure.objects.filter(project=project).first()
    claim = Claim.objects.filter(community=community).first()
    return [
        f"{base}/manage/",
        f"{base}/manage/ideas/{idea.pk}/",
        f"{base}/manage/ideas/themes/",
        f"{base}/manage/ideas/reported/",
        f"{base}/manage/ideas/rounds/",
        f"{base}/manage/ideas/rounds/{round_.pk}/",
        f"{base}/manage/ideas/rounds/{round_.pk}/results/",
        f"{base}/manage/updates/",
        f"{base}/manage/updates/new/?idea={idea.pk}",
        f"{base}/manage/updates/{draft.pk}/",
        f"{base}/updates/{update.pk}/",
        f"{base}/projects/{project.pk}/",
        f"{base}/projects/{project.pk}/edit/",
        f"{base}/projects/{project.pk}/team/",
        f"{base}/projects/{project.pk}/result/",
        f"{base}/projects/{project.pk}/measures/{measure.pk}/data/",
        f"{base}/projects/{project.pk}/cycles/new/",
        f"{base}/manage/payments/",
        f"{base}/manage/payments/rates/",
        f"{base}/manage/payments/settings/",
        f"{base}/manage/payments/totals/",
        f"{base}/payments/claims/{claim.pk}/",
        f"{base}/payments/claim/?for=someone",
        "/c/ibd-together/manage/contact/",
    ]


def _pages_for_member(community) -> list[str]:
    base = f"/c/{community.slug}"
    idea = Idea.objects.filter(community=community).listed().first()
    return [
        f"{base}/",
        f"{base}/ideas/",
        f"{base}/ideas/{idea.pk}/",
        f"{base}/ideas/new/",
        f"{base}/updates/",
        f"{base}/projects/",
        "/me/",
        "/me/input/",
        "/me/payments/",
        f"{base}/payments/claim/",
        f"{base}/payments/choice/",
    ]


def test_every_coordinator_page_is_accessible(page, live_server, assert_accessible, log_in, demo):
    log_in(page, User.objects.get(email="coordinator@example.org"))
    for path in _pages_for_coordinator(demo):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert_accessible(page)


def test_every_member_page_is_accessible(page, live_server, assert_accessible, log_in, demo):
    log_in(page, User.objects.get(email="member@example.org"))
    for path in _pages_for_member(demo):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert_accessible(page)


def test_every_partner_page_is_accessible(page, live_server, assert_accessible, log_in, demo):
    """A partner reaches their pages from the community page, not by typing addresses."""
    log_in(page, User.objects.get(email="partner@example.org"))
    page.goto(live_server.url + demo.get_absolute_url())
    assert page.get_by_role("heading", name="Sessions you run").is_visible()
    assert_accessible(page)
    page.get_by_role(
        "link", name="Your sessions: plan them, take attendance, note key points"
    ).click()
    page.wait_for_load_state()
    assert_accessible(page)
    menu = page.get_by_role("navigation", name="Manage this community")
    menu.get_by_role("link", name="Places we meet").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.go_back()
    menu.get_by_role("link", name="Ideas from paper").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Add an idea for someone else").is_visible()
    assert_accessible(page)


def test_a_scorers_waiting_rounds_are_accessible(
    page, live_server, assert_accessible, log_in, demo
):
    member = User.objects.get(email="member@example.org")
    round_ = PrioritisationRound.objects.filter(community=demo).first()
    PrioritisationRound.objects.filter(pk=round_.pk).update(status="open")
    Scorer.objects.get_or_create(round=round_, user=member, defaults={"group": "community"})
    log_in(page, member)
    for path in ("/me/", demo.get_absolute_url()):
        page.goto(live_server.url + path)
        assert page.get_by_role("heading", name="Rounds waiting for your scores").is_visible()
        assert_accessible(page)
    page.get_by_role("link", name=round_.title).first.click()
    page.wait_for_load_state()
    assert page.url.endswith(round_.get_absolute_url())
    assert_accessible(page)
