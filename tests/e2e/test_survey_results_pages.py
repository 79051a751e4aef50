"""A coordinator reads a survey's results page by page, by keyboard-reachable links: each page
is axe-clean and reflows at 320 px."""

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.engagement.test_surveys import answer, make_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def written(page) -> list[list[str]]:
    """The first two words of each written answer shown: "Note", and its number."""
    return [text.split()[:2] for text in page.locator(".result__texts li").all_inner_texts()]


def test_the_written_answers_are_read_a_page_at_a_time(
    page, live_server, assert_accessible, log_in, community, coordinator
):
    survey, *questions = make_survey(community, audience="anyone")
    for i in range(27):
        answer(survey, questions, user=AnonymousUser(), data=["yes", None, "4", f"Note {i}"])
    log_in(page, coordinator)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live_server.url}/c/{community.slug}/manage/surveys/{survey.pk}/results/")
    chart = page.get_by_role("img", name="Bar chart of the answers to “Were they clear?”")
    assert chart.is_visible()
    assert written(page) == [["Note", str(i)] for i in range(26, 1, -1)]
    assert_accessible(page)
    page.get_by_role("link", name="Older written answers").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/results/?page=2")
    assert written(page) == [["Note", "1"], ["Note", "0"]]
    assert page.get_by_role("link", name="Newer written answers").is_visible()
    assert_accessible(page)
