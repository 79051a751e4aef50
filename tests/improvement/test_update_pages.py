"""The update pages: who may see and do what, bad input on the update form, a published update
staying as it was sent, the board's theme filter, "what happened to my input", and query
counts that do not grow with the number of rows."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from communities.models import Membership
from engagement.models import Participation, Registration, Response, Session, Survey
from improvement import services
from improvement.models import Comment, Idea, Support, Theme, Update
from members.models import FanOut
from tests.conftest import PERSONAS, client_as, make_person
from tests.improvement.factories import came, make_idea, new_member, past_session

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
RUNS = {"coordinator", "staff"}


def make_update(community, *, ideas=(), sessions=(), surveys=(), published_at=None, **text):
    fields = {"title": "Letters will come sooner", "what_we_heard": "Letters come late.",
              "what_we_did": "We changed the booking system.", **text}  # fmt: skip
    if published_at is not None:
        fields.update(status=Update.Status.PUBLISHED, published_at=published_at)
    update = Update.objects.create(community=community, **fields)
    update.ideas.set(ideas)
    update.sessions.set(sessions)
    update.surveys.set(surveys)
    return update


@pytest.fixture
def idea(community):
    return make_idea(community, title="Earlier letters")


@pytest.fixture
def drafted(community, idea):
    return make_update(community, ideas=[idea], title="A draft")


@pytest.fixture
def live(community, idea):
    return make_update(community, ideas=[idea], title="Published", published_at=timezone.now())


def to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


# --- Role matrix ----------------------------------------------------------------------------

PAGES = {
    "board": lambda c, u: reverse("improvement:updates", args=[c.slug]),
    "published update": lambda c, u: u["live"].get_absolute_url(),
    "draft update": lambda c, u: u["drafted"].get_absolute_url(),
    "my input": lambda c, u: reverse("improvement:my_input"),
    "manage list": lambda c, u: reverse("improvement:manage_updates", args=[c.slug]),
    "new": lambda c, u: reverse("improvement:manage_update_new", args=[c.slug]),
    "edit draft": lambda c, u: reverse("improvement:manage_update", args=[c.slug, u["drafted"].pk]),
    "progress": lambda c, u: reverse(
        "improvement:manage_update_progress", args=[c.slug, u["live"].pk]
    ),
}
# What each role gets: everyone reads the board and published updates; drafts and the
# coordinators' pages are for this community's coordinators and site staff.
EXPECTED = {
    "board": dict.fromkeys(PERSONAS, 200),
    "published update": dict.fromkeys(PERSONAS, 200),
    "draft update": {role: 200 if role in RUNS else 404 for role in PERSONAS},
    "my input": {role: "login" if role == "anonymous" else 200 for role in PERSONAS},
    **{
        page: {
            role: "login" if role == "anonymous" else 200 if role in RUNS else 403
            for role in PERSONAS
        }
        for page in ("manage list", "new", "edit draft")
    },
    # 286 is htmx's "done, stop asking": nobody is being told about this one.
    "progress": {
        role: "login" if role == "anonymous" else 286 if role in RUNS else 403 for role in PERSONAS
    },
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", PERSONAS)
def test_role_matrix_pages(client, request, community, drafted, live, role, page):
    client_as(client, request, role)
    response = client.get(PAGES[page](community, {"drafted": drafted, "live": live}))
    expected = EXPECTED[page][role]
    if expected == "login":
        assert to_login(response), response
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("role", PERSONAS)
def test_role_matrix_publish(client, request, community, drafted, role):
    client_as(client, request, role)
    response = client.post(
        reverse("improvement:manage_update_publish", args=[community.slug, drafted.pk])
    )
    drafted.refresh_from_db()
    if role == "anonymous":
        assert to_login(response)
    elif role in RUNS:
        assert response.status_code == 302
        assert response["Location"] == drafted.get_absolute_url()
    else:
        assert response.status_code == 403
    assert drafted.is_published == (role in RUNS)


def test_publishing_needs_a_post(client, community, coordinator, drafted):
    client.force_login(coordinator)
    url = reverse("improvement:manage_update_publish", args=[community.slug, drafted.pk])
    assert client.get(url).status_code == 405
    drafted.refresh_from_db()
    assert not drafted.is_published


def test_an_update_from_another_community_is_not_found_here(
    client, community, other_community, coordinator, staff
):
    theirs = make_update(other_community, title="Theirs")
    published = make_update(other_community, title="Theirs too", published_at=timezone.now())
    for person in (coordinator, staff):
        client.force_login(person)
        slug = community.slug
        assert (
            client.get(reverse("improvement:update", args=[slug, published.pk])).status_code == 404
        )
        assert client.get(reverse("improvement:update", args=[slug, theirs.pk])).status_code == 404
        edit = reverse("improvement:manage_update", args=[slug, theirs.pk])
        assert client.get(edit).status_code == 404
        assert client.post(edit, {"title": "Hijacked"}).status_code == 404
        publish = reverse("improvement:manage_update_publish", args=[slug, theirs.pk])
        assert client.post(publish).status_code == 404
        progress = reverse("improvement:manage_update_progress", args=[slug, published.pk])
        assert client.get(progress).status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Theirs" and not theirs.is_published


@pytest.mark.parametrize(
    "query",
    [{"theme": "not-a-number"}, {"theme": "999999"}, {"page": "x"}, {"page": "999"}],
)
def test_odd_board_addresses_are_not_errors(client, community, live, query):
    response = client.get(reverse("improvement:updates", args=[community.slug]), query)
    assert response.status_code == 200
    assert "Published" in response.content.decode()


@pytest.mark.parametrize("query", ["idea=abc", "idea=999999", "session=-1", "survey=٣", "idea="])
def test_odd_new_update_addresses_are_not_errors(client, community, coordinator, query):
    client.force_login(coordinator)
    response = client.get(
        reverse("improvement:manage_update_new", args=[community.slug]) + "?" + query
    )
    assert response.status_code == 200
    assert response.context["form"].initial == {}


def test_an_idea_from_another_community_is_not_a_starting_point(
    client, community, other_community, coordinator
):
    theirs = make_idea(other_community, title="Their idea")
    client.force_login(coordinator)
    url = reverse("improvement:manage_update_new", args=[community.slug])
    response = client.get(url, {"idea": theirs.pk})
    assert response.context["form"].initial == {}
    # Nor can it be chosen by a tampered form.
    response = client.post(url, {**form_data(), "ideas": [theirs.pk]})
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["form"].errors["ideas"])
    assert not Update.objects.exists()


def test_publishing_an_update_with_no_text_is_refused_on_the_form(
    client, community, coordinator, idea
):
    empty = make_update(community, ideas=[idea], what_we_did="   ")
    client.force_login(coordinator)
    response = client.post(
        reverse("improvement:manage_update_publish", args=[community.slug, empty.pk]), follow=True
    )
    edit = reverse("improvement:manage_update", args=[community.slug, empty.pk])
    assert response.redirect_chain == [(edit, 302)]
    assert "Write a headline, what we heard and what we did" in response.content.decode()
    empty.refresh_from_db()
    assert not empty.is_published


def test_an_archived_communitys_updates_can_be_read_but_not_changed(
    client, community, coordinator, idea, drafted
):
    community.status = "archived"
    community.save()
    client.force_login(coordinator)
    assert (
        client.get(reverse("improvement:manage_updates", args=[community.slug])).status_code == 200
    )
    publish = reverse("improvement:manage_update_publish", args=[community.slug, drafted.pk])
    response = client.post(publish, follow=True)
    dashboard = reverse("communities:manage_dashboard", args=[community.slug])
    assert response.redirect_chain[0] == (dashboard, 302)
    assert "This community is archived" in response.content.decode()
    edit = reverse("improvement:manage_update", args=[community.slug, drafted.pk])
    client.post(edit, form_data(title="Changed", ideas=[idea.pk]))
    drafted.refresh_from_db()
    assert drafted.title == "A draft" and not drafted.is_published
    assert client.get(reverse("improvement:updates", args=[community.slug])).status_code == 200


# --- A published update stays as it was sent -------------------------------------------------


def form_data(**fields):
    return {
        "title": "Typed headline",
        "what_we_heard": "Typed: letters come late.",
        "what_we_did": "Typed: we asked the clinic.",
        "what_next": "Typed: we will hear in May.",
        **fields,
    }


def test_a_published_update_cannot_be_edited(client, community, coordinator, idea, live):
    client.force_login(coordinator)
    url = reverse("improvement:manage_update", args=[community.slug, live.pk])
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(live.get_absolute_url(), 302)]
    assert "This update is published, so it stays as it was sent." in response.content.decode()
    response = client.post(url, form_data(title="Changed after sending", ideas=[idea.pk]))
    assert response.status_code == 302 and response["Location"] == live.get_absolute_url()
    before = live.updated_at
    live.refresh_from_db()
    assert live.title == "Published" and live.what_we_did == "We changed the booking system."
    assert live.updated_at == before
    # The manage list links a published update to its page, not to the form.
    page = client.get(reverse("improvement:manage_updates", args=[community.slug])).content.decode()
    assert url not in page and live.get_absolute_url() in page


def test_an_update_published_while_its_form_was_open_is_not_changed(
    client, community, coordinator, idea, drafted
):
    from improvement.forms import UpdateForm
    from improvement.models import UpdateError

    form = UpdateForm(
        form_data(title="Late change", ideas=[idea.pk]), instance=drafted, community=community
    )
    assert form.is_valid()
    services.publish_update(update=Update.objects.get(pk=drafted.pk), by=coordinator)
    with pytest.raises(UpdateError):
        services.save_update(form=form, by=coordinator)
    drafted.refresh_from_db()
    assert drafted.title == "A draft"


# --- Bad input on the update form ------------------------------------------------------------


def field_block(page: str, name: str) -> str:
    """The HTML of one field's wrapper: its label, input, help and error."""
    start = page.index(f'id="div_id_{name}"')
    following = page.find('id="div_id_', start + 1)
    return page[start : following if following != -1 else len(page)]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Give the update a short headline."),
        ({"title": "   "}, "title", "Give the update a short headline."),
        ({"what_we_did": ""}, "what_we_did", "Say what we did, or could not do, and why."),
        ({"what_we_heard": " "}, "what_we_heard", "Say what we heard."),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_kept(
    client, community, coordinator, idea, change, field, message
):
    client.force_login(coordinator)
    data = form_data(ideas=[idea.pk], **change)
    response = client.post(reverse("improvement:manage_update_new", args=[community.slug]), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    page = response.content.decode()
    assert message in field_block(page, field)
    for name, value in data.items():
        if name != field and name != "ideas":
            assert value in page, f"{name} was not kept"
    assert re.search(rf'value="{idea.pk}"[^>]*checked', page), "the chosen idea was not kept"
    assert not Update.objects.exists()


def test_an_update_about_nothing_is_refused_beside_the_choices_and_kept(
    client, community, coordinator, idea
):
    client.force_login(coordinator)
    response = client.post(
        reverse("improvement:manage_update_new", args=[community.slug]), form_data()
    )
    assert response.status_code == 200
    message = "Choose at least one idea, session or survey, so we know whose input it answers."
    page = response.content.decode()
    assert message in page
    for value in form_data().values():
        assert value in page
    assert not Update.objects.exists()
    # Beside the choices it is about, not only at the top of a long form.
    assert response.context["form"].errors.get("ideas") == [message]
    assert message in field_block(page, "ideas")


def test_a_draft_is_saved_then_changed(client, community, coordinator, idea):
    client.force_login(coordinator)
    response = client.post(
        reverse("improvement:manage_update_new", args=[community.slug]), form_data(ideas=[idea.pk])
    )
    update = Update.objects.get()
    assert response["Location"] == reverse(
        "improvement:manage_update", args=[community.slug, update.pk]
    )
    assert (update.title, update.created_by, update.is_published) == (
        "Typed headline",
        coordinator,
        False,
    )
    client.post(
        reverse("improvement:manage_update", args=[community.slug, update.pk]),
        form_data(title="Better headline", ideas=[idea.pk]),
    )
    update.refresh_from_db()
    assert update.title == "Better headline" and list(update.ideas.all()) == [idea]


# --- The board --------------------------------------------------------------------------------


def test_the_board_filters_by_theme_newest_first(client, community, other_community):
    access = Theme.objects.create(community=community, name="Access")
    letters = Theme.objects.create(community=community, name="Letters")
    theirs = Theme.objects.create(community=other_community, name="Elsewhere")
    ramp = make_idea(community, title="A ramp")
    ramp.themes.set([access])
    post = make_idea(community, title="Earlier post")
    post.themes.set([letters])
    both = make_idea(community, title="Large print letters")
    both.themes.set([access, letters])
    now = timezone.now()
    make_update(community, ideas=[ramp], title="Ramp built", published_at=now - 3 * DAY)
    make_update(
        community, ideas=[post, both], title="Letters posted sooner", published_at=now - 2 * DAY
    )
    make_update(community, ideas=[ramp, both], title="Access both ways", published_at=now - DAY)
    make_update(community, ideas=[ramp], title="Still a draft")
    session_only = make_update(community, title="What we heard at the drop-in", published_at=now)
    session_only.sessions.set([past_session(community)])
    url = reverse("improvement:updates", args=[community.slug])

    def titles(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return [u.title for u in response.context["page"].object_list]

    assert titles() == [
        "What we heard at the drop-in",
        "Access both ways",
        "Letters posted sooner",
        "Ramp built",
    ]
    # An update about two ideas with the theme is listed once.
    assert titles(theme=access.pk) == ["Access both ways", "Letters posted sooner", "Ramp built"]
    assert titles(theme=letters.pk) == ["Access both ways", "Letters posted sooner"]
    # Another community's theme is no choice here: the form says so and nothing is hidden.
    response = client.get(url, {"theme": theirs.pk})
    assert "theme" in response.context["form"].errors
    assert len(response.context["page"].object_list) == 4
    page = client.get(url, {"theme": access.pk}).content.decode()
    assert "3 updates" in page and "Still a draft" not in page


def test_the_board_pages_keep_the_filter(client, community):
    access = Theme.objects.create(community=community, name="Access")
    ramp = make_idea(community, title="A ramp")
    ramp.themes.set([access])
    now = timezone.now()
    for n in range(25):
        make_update(community, ideas=[ramp], title=f"Update {n}", published_at=now - n * DAY)
    url = reverse("improvement:updates", args=[community.slug])
    first = client.get(url, {"theme": access.pk})
    assert len(first.context["page"].object_list) == 20
    assert f"?page=2&amp;theme={access.pk}" in first.content.decode()
    second = client.get(url, {"theme": access.pk, "page": 2})
    assert [u.title for u in second.context["page"].object_list] == [
        f"Update {n}" for n in range(20, 25)
    ]


# --- What happened to my input ---------------------------------------------------------------


@pytest.fixture
def my_inputs(community, coordinator, member):
    """Michael's input of every kind, each at a known time, with the updates about it."""
    now = timezone.now()
    others = make_person("someone@example.org", name="Someone")
    Membership.objects.create(community=community, user=others)
    mine = make_idea(community, author=member, title="My idea", created_at=now - 10 * DAY)
    supported = make_idea(community, author=others, title="Supported idea")
    Support.objects.create(idea=supported, user=member, created_at=now - 8 * DAY)
    discussed = make_idea(community, author=others, title="Discussed idea")
    Comment.objects.create(idea=discussed, author=member, text="a", created_at=now - 9 * DAY)
    Comment.objects.create(idea=discussed, author=member, text="b", created_at=now - 6 * DAY)
    Comment.objects.create(idea=discussed, author=others, text="c", created_at=now - DAY)
    session = past_session(
        community,
        title="Library drop-in",
        starts_at=now - 4 * DAY,
        ends_at=now - 4 * DAY + timedelta(hours=2),
    )
    came(session, member)
    missed = past_session(
        community,
        title="Missed session",
        starts_at=now - 3 * DAY,
        ends_at=now - 3 * DAY + timedelta(hours=2),
    )
    came(missed, member, attended=False)
    survey = Survey.objects.create(
        community=community, title="Parking survey", published=True, closes_at=now - DAY
    )
    Response.objects.create(survey=survey)
    Participation.objects.create(survey=survey, user=member)
    kept = make_idea(community, author=others, title="Kept idea")
    duplicate = make_idea(community, author=member, title="My duplicate", created_at=now - 2 * DAY)
    services.merge_ideas(source=duplicate, target=kept, by=coordinator, note="The same")
    make_idea(community, author=others, title="Not mine")

    make_update(community, ideas=[mine], title="First on my idea", published_at=now - 5 * DAY)
    make_update(
        community, ideas=[mine, supported], title="Second on my idea", published_at=now - DAY
    )
    make_update(community, ideas=[discussed], title="On the discussion", published_at=now - 3 * DAY)
    make_update(community, ideas=[discussed], title="A draft on the discussion")
    make_update(
        community,
        sessions=[session],
        title="What we heard at the library",
        published_at=now - 2 * DAY,
    )
    make_update(community, surveys=[survey], title="What the survey said", published_at=now)
    make_update(community, ideas=[kept], title="On the kept idea", published_at=now)
    return {"kept": kept, "duplicate": duplicate, "session": session, "survey": survey}


def test_my_input_lists_everything_i_gave_newest_first_with_its_updates(client, member, my_inputs):
    client.force_login(member)
    response = client.get(reverse("improvement:my_input"))
    assert response["Cache-Control"].startswith("max-age=0")
    items = response.context["items"]
    shown = [
        (item["label"], item["title"], item["status"], [u.title for u in item["updates"]])
        for item in items
    ]
    assert shown == [
        # A survey answer is dated by when the survey closed (answers keep no date).
        ("You answered", "Parking survey", "Closed", ["What the survey said"]),
        ("Your idea", "My duplicate", "Merged into “Kept idea”: New", ["On the kept idea"]),
        ("You came to", "Library drop-in", "Held", ["What we heard at the library"]),
        ("You discussed", "Discussed idea", "New", ["On the discussion"]),
        ("You supported", "Supported idea", "New", ["Second on my idea"]),
        ("Your idea", "My idea", "New", ["Second on my idea", "First on my idea"]),
    ]
    # A merged idea links to the idea it joined; the discussion is dated by my last comment.
    assert items[1]["link"] == my_inputs["kept"].get_absolute_url()
    assert items[3]["when"] == Comment.objects.filter(text="b").get().created_at
    page = response.content.decode()
    assert page.index("My duplicate") < page.index("Library drop-in") < page.index("My idea")
    assert page.index("Second on my idea") < page.index("First on my idea")
    for absent in ("Not mine", "Missed session", "A draft on the discussion"):
        assert absent not in page


def test_my_input_shows_updates_on_ideas_merged_into_the_one_i_gave(
    client, community, coordinator, member
):
    mine = make_idea(community, author=member, title="My idea")
    duplicate = make_idea(community, title="A duplicate")
    make_update(
        community, ideas=[duplicate], title="Before the merge", published_at=timezone.now() - DAY
    )
    services.merge_ideas(source=duplicate, target=mine, by=coordinator, note="Same")
    client.force_login(member)
    [item] = client.get(reverse("improvement:my_input")).context["items"]
    assert [u.title for u in item["updates"]] == ["Before the merge"]


def test_my_input_with_nothing_given(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("improvement:my_input"))
    assert response.context["items"] == []
    assert "You have not given any input yet." in response.content.decode()


def test_my_input_is_paginated(client, community, member):
    # QUALITY.md: pages are paginated (20–25 rows); nothing loads a whole table.
    now = timezone.now()
    Idea.objects.bulk_create(
        Idea(
            community=community,
            author=member,
            title=f"Idea {n:03d}",
            description="d",
            created_at=now - n * timedelta(minutes=1),
        )
        for n in range(60)
    )
    client.force_login(member)
    page = client.get(reverse("improvement:my_input")).content.decode()
    assert 20 <= page.count('class="input-card"') <= 25
    assert "Idea 000" in page and "Idea 059" not in page
    assert "?page=2" in page


# --- Query counts ------------------------------------------------------------------------------


def many_updates(community, n):
    """n published updates, each about two ideas with a theme."""
    theme = Theme.objects.create(community=community, name="Access")
    ideas = Idea.objects.bulk_create(
        Idea(community=community, title=f"Idea {i}", description="d") for i in range(n + 1)
    )
    Idea.themes.through.objects.bulk_create(
        Idea.themes.through(idea=idea, theme=theme) for idea in ideas
    )
    now = timezone.now()
    updates = Update.objects.bulk_create(
        Update(
            community=community,
            title=f"Update {i}",
            what_we_heard="h",
            what_we_did="d",
            status="published",
            published_at=now - i * timedelta(minutes=1),
        )
        for i in range(n)
    )
    Update.ideas.through.objects.bulk_create(
        Update.ideas.through(update=update, idea=idea)
        for i, update in enumerate(updates)
        for idea in (ideas[i], ideas[i + 1])
    )
    return theme


@pytest.mark.parametrize("n", [3, 300])
def test_board_query_count_does_not_grow(client, community, member, n, django_assert_num_queries):
    theme = many_updates(community, n)
    client.force_login(member)
    url = reverse("improvement:updates", args=[community.slug])
    # community, the community's themes (the filter form's choices, against which it checks
    # the theme asked for), the count, the page of updates, their ideas; then, as the
    # template renders, session and user (the header). (8 while the form read the theme
    # asked for again.)
    with django_assert_num_queries(7):
        response = client.get(url, {"theme": theme.pk})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(n, 20)
    # A visitor: the same without session and user.
    client.logout()
    with django_assert_num_queries(5):
        client.get(url, {"theme": theme.pk})


def many_inputs(community, member, n):
    """n of each kind of input from `member` (ideas, supports, comments, survey answers,
    sessions attended), each with a published update. The kinds' dates interleave, so every
    page holds every kind."""
    now = timezone.now()
    minute = timedelta(minutes=1)
    mine = Idea.objects.bulk_create(
        Idea(
            community=community,
            author=member,
            title=f"Mine {i}",
            description="d",
            created_at=now - i * minute,
        )
        for i in range(n)
    )
    theirs = Idea.objects.bulk_create(
        Idea(community=community, title=f"Theirs {i}", description="d") for i in range(2 * n)
    )
    Support.objects.bulk_create(
        Support(idea=idea, user=member, created_at=now - i * minute)
        for i, idea in enumerate(theirs[:n])
    )
    Comment.objects.bulk_create(
        Comment(idea=idea, author=member, text="c", created_at=now - i * minute)
        for i, idea in enumerate(theirs[n:])
        for _ in range(2)
    )
    surveys = Survey.objects.bulk_create(
        Survey(
            community=community,
            title=f"Survey {i}",
            published=True,
            opens_at=now - 30 * DAY,
            closes_at=now - i * minute,
        )
        for i in range(n)
    )
    Participation.objects.bulk_create(Participation(survey=s, user=member) for s in surveys)
    sessions = Session.objects.bulk_create(
        Session(
            community=community,
            title=f"Session {i}",
            kind="drop_in",
            status="completed",
            starts_at=now - i * minute,
            ends_at=now - i * minute + 2 * HOUR,
        )
        for i in range(n)
    )
    Registration.objects.bulk_create(
        Registration(session=s, user=member, status="registered", attended=True) for s in sessions
    )
    updates = Update.objects.bulk_create(
        Update(
            community=community,
            title=f"U{i}",
            what_we_heard="h",
            what_we_did="d",
            status="published",
            published_at=now,
        )
        for i in range(5 * n)
    )
    through = [
        *(
            Update.ideas.through(update=u, idea=i)
            for u, i in zip(updates[: 3 * n], mine + theirs, strict=True)
        ),
        *(
            Update.surveys.through(update=u, survey=s)
            for u, s in zip(updates[3 * n : 4 * n], surveys, strict=True)
        ),
        *(
            Update.sessions.through(update=u, session=s)
            for u, s in zip(updates[4 * n :], sessions, strict=True)
        ),
    ]
    for model in {type(row) for row in through}:
        model.objects.bulk_create(row for row in through if type(row) is model)


@pytest.mark.parametrize("n", [3, 60])  # 15 and 300 pieces of input
def test_my_input_query_count_does_not_grow(
    client, community, member, n, django_assert_num_queries
):
    many_inputs(community, member, n)
    client.force_login(member)
    # session, user; how many inputs I gave (a sum of indexed counts) and the page of them
    # (one UNION of every kind, ordered and paged in SQL); then for that page only: its ideas
    # (with the ideas they were merged into), its surveys, its sessions, the ideas made from
    # my answers to those surveys or heard at those sessions, and the updates on the ideas
    # (merged ones included), the surveys and the sessions, in one UNION. (13 before the page
    # was paged in SQL; 11 while the updates were three queries.)
    with django_assert_num_queries(9):
        response = client.get(reverse("improvement:my_input"))
    assert response.status_code == 200
    items = response.context["items"]
    assert len(items) == min(5 * n, 25)  # a page of them
    assert response.context["page"].paginator.count == 5 * n
    assert all(len(item["updates"]) == 1 for item in items)


def busy_dashboard(community, n):
    now = timezone.now()
    ideas = Idea.objects.bulk_create(
        Idea(
            community=community,
            title=f"Idea {i}",
            description="d",
            created_at=now - (i + 1) * DAY,
            decided_at=now if i % 3 else None,
        )
        for i in range(n)
    )
    updates = Update.objects.bulk_create(
        Update(
            community=community,
            title=f"U{i}",
            what_we_heard="h",
            what_we_did="d",
            status="published",
            published_at=now,
        )
        for i in range(n // 3)
    )
    Update.ideas.through.objects.bulk_create(
        Update.ideas.through(update=u, idea=i) for u, i in zip(updates, ideas[::3], strict=True)
    )
    sessions = Session.objects.bulk_create(
        Session(
            community=community,
            title=f"Session {i}",
            kind="drop_in",
            status="completed",
            starts_at=now - 40 * DAY,
            ends_at=now - 39 * DAY,
            walk_in_count=2,
        )
        for i in range(n)
    )
    surveys = Survey.objects.bulk_create(
        Survey(community=community, title=f"Survey {i}", published=True, closes_at=now - 35 * DAY)
        for i in range(n)
    )
    Response.objects.bulk_create(Response(survey=s) for s in surveys)
    assert len(sessions) == n


@pytest.mark.parametrize("n", [3, 300])
def test_dashboard_query_count_does_not_grow(
    client, community, coordinator, n, django_assert_num_queries
):
    busy_dashboard(community, n)
    client.force_login(coordinator)
    # session, user, community, may coordinate; the revisions of the counts of people and of
    # both panels (one query); memberships by status and pending invitations (2, kept
    # after); failed deliveries and people to write to or call (1); the loop panel's figures
    # (not kept yet: the inputs counted; the answered ones counted, with their median and
    # 90th percentile on PostgreSQL, or those two waits read at their ranks in two more
    # queries elsewhere; the oldest overdue ideas, sessions and surveys); the payments panel
    # (claims waiting, payment settings, time and expenses approved this tax year: one
    # query; the coordinator's own claims waiting: one); the latest surveys (read by the
    # template). (21 before the figures were counted in the database.)
    with django_assert_num_queries(16 if connection.vendor == "postgresql" else 18):
        response = client.get(reverse("communities:manage_dashboard", args=[community.slug]))
    assert response.status_code == 200
    [panel] = [p for t, p in response.context["panels"] if "loop" in t]
    assert panel["figures"].total == 3 * n
    assert panel["overdue_count"] >= 2 * n  # every session and survey
    assert len(panel["overdue"]) == min(panel["overdue_count"], 20)


def test_my_input_shows_updates_on_ideas_made_from_my_answer_or_my_session(
    client, community, coordinator, member
):
    from tests.improvement.factories import key_point, survey_answer

    answer = survey_answer(community, user=member, text="Cheaper parking")
    Participation.objects.create(survey=answer.response.survey, user=member)
    from_answer = services.add_idea(
        community=community,
        by=coordinator,
        title="Parking",
        description="d",
        survey_answer=answer,
    )
    session = past_session(community, title="Library drop-in")
    came(session, member)
    from_session = services.add_idea(
        community=community,
        by=coordinator,
        title="Letters",
        description="d",
        key_point=key_point(session),
    )
    make_update(community, ideas=[from_answer], title="About parking", published_at=timezone.now())
    make_update(community, ideas=[from_session], title="About letters", published_at=timezone.now())
    client.force_login(member)
    items = {
        i["kind"]: [u.title for u in i["updates"]]
        for i in client.get(reverse("improvement:my_input")).context["items"]
    }
    assert items == {"survey": ["About parking"], "session": ["About letters"]}


# --- How far telling people has got -----------------------------------------------------------


def test_coordinators_see_how_far_telling_people_has_got_and_members_do_not(
    client, community, coordinator, member, drafted
):
    from members import fanout

    supporters = [new_member(community, f"s{i}@example.org") for i in range(3)]
    for person in supporters:
        Support.objects.create(idea=drafted.ideas.get(), user=person)
    services.publish_update(update=drafted, by=coordinator)  # the worker has not started
    progress_url = reverse("improvement:manage_update_progress", args=[community.slug, drafted.pk])
    client.force_login(coordinator)
    page = client.get(drafted.get_absolute_url()).content.decode()
    assert "Getting ready to tell everyone" in page
    assert f'hx-get="{progress_url}"' in page and "htmx" in page
    assert "Refresh to see how far it has got" in page
    assert client.get(progress_url).status_code == 200  # htmx keeps asking
    listing = reverse("improvement:manage_updates", args=[community.slug])
    assert "Telling them now" in client.get(listing).content.decode()

    fan_out = FanOut.objects.get(kind="update_published")
    fanout.advance(fan_out.pk, batch_size=2, budget_seconds=0)
    fragment = client.get(progress_url)
    assert fragment.status_code == 200
    assert "2 of 3 people written to so far; 0 emails sent." in fragment.content.decode()

    fanout.advance(fan_out.pk)
    fragment = client.get(progress_url)
    assert fragment.status_code == 286  # done: htmx stops asking
    assert "Everyone is written to: 3 people will hear, each once" in fragment.content.decode()
    page = client.get(drafted.get_absolute_url()).content.decode()
    assert "hx-get" not in page and "Refresh to see how far it has got" not in page
    drafted.refresh_from_db()
    assert drafted.told_count == 3
    assert "Telling them now" not in client.get(listing).content.decode()

    client.force_login(member)
    page = client.get(drafted.get_absolute_url()).content.decode()
    assert "Telling everyone whose input it answers" not in page


def test_the_progress_of_a_draft_is_not_found(client, community, coordinator, drafted):
    client.force_login(coordinator)
    url = reverse("improvement:manage_update_progress", args=[community.slug, drafted.pk])
    assert client.get(url).status_code == 404
