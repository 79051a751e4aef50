"""The ideas list and an idea's page keep their rendered parts under keys made of what they
show: after a part has been rendered and kept once, a change to anything it shows is on the
next page, and what one reader's role or authorship shows never reaches another reader."""

import pytest
from django.urls import reverse

from communities.models import Membership
from improvement import services
from improvement.models import Comment, Idea, Theme
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member):
    return services.add_idea(
        community=community, by=member, title="Evening clinics", description="After work."
    )


def _page(client, url, user=None, **params) -> str:
    if user is not None:
        client.force_login(user)
    else:
        client.logout()
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def _list_url(community) -> str:
    return reverse("improvement:ideas", args=[community.slug])


# --- The list ------------------------------------------------------------------------------


def test_a_card_in_the_list_shows_a_new_title_count_status_and_theme(
    client, community, idea, member, coordinator
):
    url = _list_url(community)
    first = _page(client, url, member)
    assert "Evening clinics" in first
    assert "0 supporters" in first

    Idea.objects.filter(pk=idea.pk).update(title="Weekend clinics")
    services.support_idea(idea=idea, user=coordinator)
    services.change_status(idea=idea, status=Idea.Status.CONSIDERING, by=coordinator)
    idea.themes.add(Theme.objects.create(community=community, name="Access"))

    again = _page(client, url, member)
    assert "Weekend clinics" in again
    assert "Evening clinics" not in again
    assert "1 supporter" in again
    assert "Under consideration" in again
    assert "Themes: Access" in again


def test_the_list_shows_a_new_idea_on_a_page_seen_before(client, community, idea, member):
    url = _list_url(community)
    assert "1 idea" in _page(client, url, member)
    services.add_idea(community=community, by=member, title="Text reminders", description="d")
    again = _page(client, url, member)
    assert "2 ideas" in again
    assert "Text reminders" in again


def test_the_filter_form_shows_what_was_asked_and_the_themes_as_they_are_now(
    client, community, idea, member
):
    theme = Theme.objects.create(community=community, name="Access")
    url = _list_url(community)
    plain = _page(client, url, member)
    assert f'<option value="{theme.pk}">Access</option>' in plain

    searched = _page(client, url, member, q="clinics", sort="supported")
    assert 'value="clinics"' in searched
    assert '<option value="supported" selected>' in searched
    # The form seen first is not served for another search.
    assert 'value="clinics"' not in _page(client, url, member)

    theme.name = "Getting there"  # saved, as the themes page and the admin save it
    theme.save()
    renamed = _page(client, url, member)
    assert f'<option value="{theme.pk}">Getting there</option>' in renamed
    assert ">Access<" not in renamed


def test_the_add_buttons_follow_the_reader_not_the_reader_before(
    client, community, idea, member, coordinator, outsider
):
    url = _list_url(community)
    as_coordinator = _page(client, url, coordinator)
    assert "Add an idea for someone else" in as_coordinator

    as_member = _page(client, url, member)
    assert "Add an idea for someone else" not in as_member
    assert "Add an idea" in as_member

    as_outsider = _page(client, url, outsider)
    assert "Join the community to add or support ideas" in as_outsider
    assert "Add an idea" not in as_outsider
    assert "Sign in to add or support ideas" in _page(client, url)


# --- An idea's page ------------------------------------------------------------------------


def test_the_idea_page_shows_new_counts_text_names_and_hidden_comments(
    client, community, idea, member, coordinator
):
    comment = services.add_comment(idea=idea, user=member, text="Yes, after six.")
    url = idea.get_absolute_url()
    first = _page(client, url, coordinator)
    assert "Yes, after six." in first
    assert "0 people support this" in first
    assert "Added online by Michael" in first

    services.support_idea(idea=idea, user=coordinator)
    services.edit_comment(comment=comment, user=member, text="Yes, after seven.")
    member.name = "Mike"
    member.save(update_fields=["name"])

    again = _page(client, url, coordinator)
    assert "1 person supports this" in again
    assert "Yes, after seven." in again
    assert "Yes, after six." not in again
    assert "(changed)" in again
    assert "Added online by Mike" in again
    assert "<strong>Mike</strong>" in again

    services.hide_comment(comment=Comment.objects.get(pk=comment.pk), by=coordinator, reason="Off")
    hidden = _page(client, url, coordinator)
    assert "A coordinator hid this comment: Off" in hidden
    assert "Yes, after seven." not in hidden


def test_the_idea_page_shows_a_new_support_count(client, community, idea, member, coordinator):
    url = idea.get_absolute_url()
    assert "0 people support this" in _page(client, url, member)
    services.support_idea(idea=idea, user=coordinator)
    assert "1 person supports this" in _page(client, url, member)


def test_the_discussion_shows_a_new_comment_after_being_kept(client, community, idea, member):
    services.add_comment(idea=idea, user=member, text="First thought.")
    url = idea.get_absolute_url()
    assert "Second thought." not in _page(client, url, member)
    services.add_comment(idea=idea, user=member, text="Second thought.")
    again = _page(client, url, member)
    assert "First thought." in again
    assert "Second thought." in again


def test_coordinator_controls_never_reach_a_member_after_a_coordinator_looked(
    client, community, idea, member, coordinator
):
    services.add_comment(idea=idea, user=member, text="Yes, please.")
    manage = reverse("improvement:manage_idea", args=[community.slug, idea.pk])
    url = idea.get_absolute_url()
    assert manage in _page(client, url, coordinator)

    as_member = _page(client, url, member)
    assert manage not in as_member
    assert "Decide, change status or merge" not in as_member


def test_change_and_report_links_follow_who_wrote_the_comment_and_who_reads(
    client, community, idea, member, coordinator, outsider
):
    comment = services.add_comment(idea=idea, user=member, text="Yes, please.")
    url = idea.get_absolute_url()
    edit = reverse("improvement:comment_edit", args=[community.slug, idea.pk, comment.pk])
    report = reverse("improvement:comment_report", args=[community.slug, idea.pk, comment.pk])

    as_author = _page(client, url, member)
    assert edit in as_author
    assert report not in as_author

    as_coordinator = _page(client, url, coordinator)
    assert report in as_coordinator
    assert edit not in as_coordinator

    # Visitors and people outside the community: no links, no names, no comment box.
    for reader in (None, outsider):
        seen = _page(client, url, reader)
        assert edit not in seen
        assert report not in seen
        assert "<strong>A member</strong>" in seen
        assert "<strong>Michael</strong>" not in seen
        assert 'name="text"' not in seen
    assert "<strong>Michael</strong>" in _page(client, url, member)


def test_a_member_who_has_not_agreed_the_ground_rules_gets_no_report_links(
    client, community, idea, member, coordinator
):
    """Two members see the same names and neither wrote the comment: only whether they may
    take part tells their discussions apart. Someone outside may not take part either: only
    whether names are shown tells theirs apart."""
    community.ground_rules = "Be kind."
    community.save(update_fields=["ground_rules"])
    agreed = make_person("agnes@example.org", name="Agnes")
    Membership.objects.create(
        user=agreed, community=community, role="member", rules_version_agreed=1
    )
    not_yet = make_person("nell@example.org", name="Nell")
    Membership.objects.create(user=not_yet, community=community, role="member")
    comment = services.add_comment(idea=idea, user=coordinator, text="Noted.")
    report = reverse("improvement:comment_report", args=[community.slug, idea.pk, comment.pk])
    url = idea.get_absolute_url()

    assert report in _page(client, url, agreed)
    seen = _page(client, url, not_yet)
    assert report not in seen
    assert "<strong>Cora</strong>" in seen
    # Nor may someone outside the community, who also sees no names.
    outside = _page(client, url, make_person("otis@example.org", name="Otis"))
    assert "<strong>A member</strong>" in outside
    assert "<strong>Cora</strong>" not in outside


def test_a_comment_box_with_an_error_keeps_its_own_text(client, community, idea, member):
    client.force_login(member)
    url = reverse("improvement:idea_comment", args=[community.slug, idea.pk])
    response = client.post(url, {"text": "x" * 2001})
    assert response.status_code == 400
    assert "x" * 2001 in response.content.decode()
    # The empty box on the page is not the one with the text in it.
    assert "x" * 2001 not in _page(client, idea.get_absolute_url(), member)


def test_the_history_shows_a_new_line(client, community, idea, member, coordinator):
    url = idea.get_absolute_url()
    assert "Status changed to" not in _page(client, url, member)
    services.change_status(idea=idea, status=Idea.Status.CONSIDERING, by=coordinator)
    assert "Status changed to “Under consideration”" in _page(client, url, member)


def test_both_pages_show_the_community_under_its_new_name(client, community, idea, member):
    url = idea.get_absolute_url()
    assert "Ideas in Bowel care together" in _page(client, url, member)
    assert ">Bowel care together</a>" in _page(client, _list_url(community), member)
    community.name = "Bowel care"
    community.save(update_fields=["name"])
    assert "Ideas in Bowel care<" in _page(client, url, member)
    assert ">Bowel care</a>" in _page(client, _list_url(community), member)


def test_the_merge_note_is_shown_only_to_who_followed_the_merged_idea(
    client, community, idea, member, coordinator
):
    other = services.add_idea(community=community, by=member, title="Late clinics", description="d")
    services.merge_ideas(source=other, target=idea, by=coordinator, note="The same")
    url = idea.get_absolute_url()
    followed = _page(client, url, member, merged_from=other.pk)
    assert "You followed a link to “Late clinics”" in followed
    assert "“Late clinics” was merged into this idea" in followed
    assert "<li>Late clinics</li>" in followed
    assert "You followed a link" not in _page(client, url, member)
