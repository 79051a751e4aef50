"""Forms that choose ideas (a round's, an update's, a project's, the idea to merge into) list
what is chosen and a bounded number of others, the most likely first or those found by words,
and still accept any eligible idea: a community with thousands of ideas gets a page of a
fixed size."""

import pytest
from django.urls import reverse

from improvement.forms import RoundForm
from improvement.models import Idea, PrioritisationRound
from members.choosing import OFFERED
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(community):
    return [
        make_idea(community, title=f"Idea number {i}", support_count=i) for i in range(OFFERED + 15)
    ]


def listed(form, name="ideas") -> list[int]:
    return [value for value, _label in form.fields[name].choices]


def test_the_most_supported_are_listed_and_the_chosen_always(community, many):
    least = many[0]
    form = RoundForm(community=community, initial={"ideas": [least.pk]})
    shown = listed(form)
    assert len(shown) == OFFERED + 1
    assert shown[0] == least.pk  # chosen, though the least supported
    assert shown[1:] == [idea.pk for idea in sorted(many, key=lambda i: -i.support_count)][:OFFERED]


def test_words_list_the_ideas_that_have_them(community, many):
    make_idea(community, title="Parking at the health centre")
    form = RoundForm(community=community, find="parking")
    assert [Idea.objects.get(pk=pk).title for pk in listed(form)] == [
        "Parking at the health centre"
    ]


def test_an_idea_not_listed_is_still_accepted(community, coordinator, many, client):
    least = many[0]
    client.force_login(coordinator)
    page = client.get(reverse("improvement:manage_rounds", args=[community.slug]))
    assert f'name="ideas" value="{least.pk}"' not in page.content.decode()  # not listed
    client.post(
        reverse("improvement:manage_rounds", args=[community.slug]),
        {"title": "Spring round", "description": "", "ideas": [least.pk]},
    )
    assert list(PrioritisationRound.objects.get().ideas.all()) == [least]


def test_the_search_is_offered_above_the_form_and_keeps_its_words(
    client, community, coordinator, many
):
    client.force_login(coordinator)
    page = client.get(
        reverse("improvement:manage_rounds", args=[community.slug]), {"find": "number 7"}
    ).content.decode()
    assert 'name="find" value="number 7"' in page
    assert "Idea number 7" in page and "Idea number 70" in page
    assert "Idea number 8<" not in page


def test_finding_lists_others_and_keeps_everything_typed_unsaved(
    client, community, coordinator, many
):
    """The search box is inside the form: its Find button posts everything typed, and the
    form comes back with it all, the chosen idea still ticked, and nothing saved."""
    least = many[0]
    client.force_login(coordinator)
    rounds = reverse("improvement:manage_rounds", args=[community.slug])
    typed = {"title": "Spring round", "description": "Our first go", "ideas": [least.pk]}
    page = client.post(rounds, {**typed, "find": "number 7", "found_for": "", "finding": "1"})
    assert page.status_code == 200
    assert not PrioritisationRound.objects.exists()
    form = page.context["form"]
    assert not form.is_bound and not form.errors
    assert (form["title"].value(), form["description"].value()) == ("Spring round", "Our first go")
    assert [str(pk) for pk in form["ideas"].value()] == [str(least.pk)]
    assert listed(form)[0] == least.pk  # chosen, then those found
    shown = {Idea.objects.get(pk=pk).title for pk in listed(form)[1:]}
    assert shown == {"Idea number 7", *(f"Idea number {i}" for i in range(70, OFFERED + 15))}
    html = page.content.decode()
    assert 'name="found_for" value="number 7"' in html and 'value="Spring round"' in html


def test_enter_with_new_words_finds_and_with_the_same_words_saves(
    client, community, coordinator, many
):
    client.force_login(coordinator)
    rounds = reverse("improvement:manage_rounds", args=[community.slug])
    typed = {"title": "Spring round", "description": "", "ideas": [many[7].pk]}
    # Enter in the search box: the words differ from those the list was found with.
    client.post(rounds, {**typed, "find": "number 7", "found_for": ""})
    assert not PrioritisationRound.objects.exists()
    # Saved with the list as found: the words are those it was found with.
    client.post(rounds, {**typed, "find": "number 7", "found_for": "number 7"})
    assert list(PrioritisationRound.objects.get().ideas.all()) == [many[7]]


def test_finding_an_idea_to_merge_into_keeps_the_note(client, community, coordinator, many):
    client.force_login(coordinator)
    source = many[1]
    merge = reverse("improvement:manage_idea_merge", args=[community.slug, source.pk])
    page = client.post(
        merge, {"merge-note": "Says the same", "find": "number 7", "found_for": "", "finding": "1"}
    )
    assert page.status_code == 200
    assert Idea.objects.get(pk=source.pk).merged_into is None
    assert page.context["merge_form"]["note"].value() == "Says the same"
    assert "Idea number 70" in page.content.decode()


def test_a_session_not_needed_can_be_left_empty_and_the_latest_are_listed(community):
    from datetime import timedelta

    from django.utils import timezone

    from engagement.models import Session
    from improvement.forms import OnBehalfIdeaForm

    now = timezone.now()
    sessions = [
        Session.objects.create(
            community=community,
            title=f"Drop-in {i}",
            kind="drop_in",
            starts_at=now - timedelta(days=i + 1),
            ends_at=now - timedelta(days=i + 1) + timedelta(hours=1),
        )
        for i in range(OFFERED + 5)
    ]
    choices = OnBehalfIdeaForm(community=community).fields["session"].choices
    assert choices[0][0] == ""  # "no session": the field is not required
    assert [pk for pk, _label in choices[1:]] == [s.pk for s in sessions[:OFFERED]]
