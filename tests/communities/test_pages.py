import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults

from communities.models import Community
from tests.conftest import make_community

pytestmark = pytest.mark.django_db


def test_home_lists_only_listed_communities(client, community):
    make_community("hidden-one", name="Hidden one", listed=False)
    make_community("hidden-past", name="Hidden past", listed=False, status="archived")
    page = client.get("/").content.decode()
    assert community.name in page
    assert community.purpose in page
    assert "Hidden one" not in page and "Hidden past" not in page
    assert "Past and closing communities" not in page


def test_home_lists_past_and_closing_communities_after_the_running_ones(client, community):
    """Their record stays findable: under their own heading, each with its legacy note."""
    make_community(
        "old-one",
        name="Aardvark old",
        status=Community.Status.ARCHIVED,
        legacy_note="We changed the clinic letters. Carry on at Newtown.",
    )
    make_community(
        "ending-one",
        name="Ending one",
        status=Community.Status.WINDING_DOWN,
        legacy_note="Our last session is in June.",
    )
    page = client.get("/").content.decode()
    heading = page.index("Past and closing communities")
    assert page.index(community.name) < heading
    assert heading < page.index("Aardvark old") < page.index("Ending one")
    assert "We changed the clinic letters. Carry on at Newtown." in page
    assert "Our last session is in June." in page
    past = page[heading:]
    assert "Archived" in past and "Winding down" in past
    assert "/join/" not in page  # the home page offers nothing to do in them


@pytest.mark.parametrize("count", [3, 30])
def test_home_query_count_does_not_grow_with_communities(client, django_assert_num_queries, count):
    for i in range(count):
        make_community(f"community-{i}")
        make_community(f"past-{i}", status=Community.Status.ARCHIVED, legacy_note="Done.")
    # 1: the page of communities, running and past in one list; 2: the paginator's count.
    with django_assert_num_queries(2):
        response = client.get("/")
    assert response.status_code == 200


def test_home_is_paginated(client):
    for i in range(25):
        make_community(f"community-{i:02d}")
    first = client.get("/").content.decode()
    second = client.get("/?page=2").content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count('class="community-card"') == 20
    assert second.count('class="community-card"') == 5


def test_community_page_shows_its_purpose(client, community, django_assert_num_queries):
    # 1: the community; 2: its partner organisations; 3-6: the "you said, we did" panel (the
    # revision its figures are kept under, the ideas counted, the answered ones counted, the
    # latest updates; with no idea answered there is no wait to rank); 7: its next sessions.
    with django_assert_num_queries(7):
        response = client.get(f"/c/{community.slug}/")
    assert response.status_code == 200
    assert community.purpose in response.content.decode()


def test_unknown_community_is_a_404_in_the_site_layout(client, db):
    response = client.get("/c/no-such-community/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert 'href="#main"' in response.content.decode()


def test_error_pages_use_the_site_layout(rf: RequestFactory, db):
    request = rf.get("/")
    forbidden = defaults.permission_denied(request, PermissionDenied())
    assert forbidden.status_code == 403
    assert "You cannot do that here" in forbidden.content.decode()
    broken = defaults.server_error(request)
    assert broken.status_code == 500
    assert "Something went wrong" in broken.content.decode()
    assert 'href="#main"' in broken.content.decode()


def test_security_headers(client, db):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_scripts_or_styles(client, community):
    for path in ("/", f"/c/{community.slug}/", "/accounts/login/", "/accounts/signup/"):
        page = client.get(path).content.decode()
        assert "<script>" not in page and "style=" not in page, path
