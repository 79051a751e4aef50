"""Updates: who is told, once each; publishing that cannot be done twice; the pages."""

import pytest
from django.urls import reverse

from engagement.models import Participation
from improvement import services
from improvement.models import IdeaEvent, Update, UpdateError
from members.models import Notification
from members.services import erase_person
from tests.improvement.factories import came, new_member, past_session, survey_answer

pytestmark = pytest.mark.django_db


def _update(community, by, *, ideas=(), sessions=(), surveys=(), **text) -> Update:
    fields = {"title": "Letters will come sooner", "what_we_heard": "Letters come late.",
              "what_we_did": "We changed the booking system.", **text}  # fmt: skip
    update = Update.objects.create(community=community, created_by=by, **fields)
    update.ideas.set(ideas)
    update.sessions.set(sessions)
    update.surveys.set(surveys)
    return update


@pytest.fixture
def idea(community, member):
    return services.add_idea(
        community=community, by=member, title="Earlier letters", description="Please."
    )


def test_the_audience_covers_every_path_each_person_once(community, coordinator, member, idea):
    # The author also supports a merged duplicate and came to the session: still once.
    supporter = new_member(community, "sam@example.org", name="Sam")
    duplicate = services.add_idea(
        community=community, by=supporter, title="Letters sooner", description="Same."
    )
    services.support_idea(idea=duplicate, user=member)
    services.merge_ideas(source=duplicate, target=idea, by=coordinator, note="Same")
    paper = services.add_idea(
        community=community,
        by=coordinator,
        title="Bigger print",
        description="d",
        on_behalf={
            "on_behalf_of": "Mrs Khan",
            "contact_by": "post",
            "contact_details": "1 High Street",
        },
    )
    session = past_session(community)
    attendee = new_member(community, "ada@example.org", name="Ada")
    came(session, attendee)
    came(session, member)
    came(session, new_member(community, "absent@example.org"), attended=False)
    answer = survey_answer(community, user=None, text="Anon")
    survey = answer.response.survey
    answerer = new_member(community, "ann@example.org", name="Ann")
    Participation.objects.create(survey=survey, user=answerer)  # answered without their name
    update = _update(
        community, coordinator, ideas=[idea, paper], sessions=[session], surveys=[survey]
    )
    audience = update.audience()
    assert sorted(p.email for p in audience.members) == sorted(
        [member.email, supporter.email, attendee.email, answerer.email]
    )
    assert [c.name for c in audience.on_behalf] == ["Mrs Khan"]


def test_publishing_tells_each_person_once_and_twice_tells_nobody_again(
    community, coordinator, member, idea, django_capture_on_commit_callbacks, mailoutbox
):
    other = services.add_idea(community=community, by=member, title="Other", description="d")
    update = _update(community, coordinator, ideas=[idea, other])
    with django_capture_on_commit_callbacks(execute=True):
        first = services.publish_update(update=update, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.publish_update(update=update, by=coordinator)
    assert (first.published, again.published) == (True, False)
    assert again.fan_out is None
    assert [m.to for m in mailoutbox] == [[member.email]]
    assert mailoutbox[0].subject == "What we did with your input: Letters will come sooner"
    assert update.get_absolute_url() in mailoutbox[0].body
    update.refresh_from_db()
    assert update.is_published and update.told_count == 1
    assert IdeaEvent.objects.filter(kind="updated").count() == 2


def test_an_update_with_no_text_is_refused(community, coordinator, idea):
    update = _update(community, coordinator, ideas=[idea], what_we_did="  ")
    with pytest.raises(UpdateError):
        services.publish_update(update=update, by=coordinator)
    update.refresh_from_db()
    assert not update.is_published


def test_an_update_about_nobody_contactable_is_published_and_tells_nobody(
    client, community, coordinator, django_capture_on_commit_callbacks
):
    anonymous_idea = services.add_idea(
        community=community,
        by=coordinator,
        title="From the box",
        description="d",
        on_behalf={"on_behalf_of": "Someone at the drop-in"},
    )
    update = _update(community, coordinator, ideas=[anonymous_idea])
    client.force_login(coordinator)
    edit = client.get(reverse("improvement:manage_update", args=[community.slug, update.pk]))
    assert "Nobody will be told directly" in edit.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("improvement:manage_update_publish", args=[community.slug, update.pk]))
    # The worker has told everyone it could; the update's page says nobody could be.
    response = client.get(update.get_absolute_url())
    assert "Nobody was told directly" in response.content.decode()
    update.refresh_from_db()
    assert update.is_published and update.told_count == 0


def test_a_contributor_who_deleted_their_account_is_skipped(
    community, coordinator, member, idea, django_capture_on_commit_callbacks, mailoutbox
):
    erase_person(user=member)
    update = _update(community, coordinator, ideas=[idea])
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_update(update=update, by=coordinator)
    update.refresh_from_db()
    assert update.told_count == 0 and mailoutbox == []
    assert not Notification.objects.filter(kind="update_published").exists()


def test_paper_contributors_by_post_go_on_the_letters_and_calls_list(
    client, community, coordinator, django_capture_on_commit_callbacks
):
    paper = services.add_idea(
        community=community,
        by=coordinator,
        title="Bigger print",
        description="d",
        on_behalf={
            "on_behalf_of": "Mrs Khan",
            "contact_by": "post",
            "contact_details": "1 High Street, Sheffield",
        },
    )
    update = _update(community, coordinator, ideas=[paper])
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_update(update=update, by=coordinator)
    client.force_login(coordinator)
    page = client.get(reverse("communities:manage_contact_list", args=[community.slug]))
    text = page.content.decode()
    assert "Mrs Khan" in text and "1 High Street, Sheffield" in text
    assert "What we did with your input: Letters will come sooner" in text


def test_deciding_prompts_an_update_prefilled_with_the_decision(
    client, community, coordinator, idea
):
    client.force_login(coordinator)
    response = client.post(
        reverse("improvement:manage_idea_decide", args=[community.slug, idea.pk]),
        {"outcome": "adopt", "reason": "We will send letters a week sooner."},
        follow=True,
    )
    form = response.context["form"]
    assert form.initial["ideas"] == [idea.pk]
    assert "We will send letters a week sooner." in form.initial["what_we_did"]


def test_the_board_and_my_input_show_a_published_update(
    client, community, coordinator, member, idea, django_assert_num_queries
):
    update = _update(community, coordinator, ideas=[idea])
    services.publish_update(update=update, by=coordinator)
    board = client.get(reverse("improvement:updates", args=[community.slug]))
    assert "Letters will come sooner" in board.content.decode()
    client.force_login(member)
    page = client.get(reverse("improvement:my_input"))
    text = page.content.decode()
    assert "Earlier letters" in text and "Letters will come sooner" in text


def test_a_draft_is_hidden_from_everyone_but_coordinators(
    client, community, coordinator, member, idea
):
    update = _update(community, coordinator, ideas=[idea])
    url = update.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(member)
    assert client.get(url).status_code == 404
    client.force_login(coordinator)
    assert client.get(url).status_code == 200


def test_untold_decision_counts_on_the_dashboard(client, community, coordinator, idea):
    services.decide(idea=idea, outcome="not_taken_forward", reason="No money.", by=coordinator)
    client.force_login(coordinator)
    page = client.get(reverse("communities:manage_dashboard", args=[community.slug]))
    [panel] = [p for t, p in page.context["panels"] if "loop" in t]
    assert panel["unanswered_decisions"] == 1
    assert panel["figures"].share == 0


def test_a_paper_contact_with_a_members_email_hears_once(
    community, coordinator, member, idea, django_capture_on_commit_callbacks, mailoutbox
):
    paper = services.add_idea(
        community=community,
        by=coordinator,
        title="Bigger print",
        description="d",
        on_behalf={
            "on_behalf_of": "Michael, on paper",
            "contact_by": "email",
            "contact_details": member.email.upper(),
        },
    )
    update = _update(community, coordinator, ideas=[idea, paper])
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_update(update=update, by=coordinator)
    assert [m.to for m in mailoutbox] == [[member.email]]
    update.refresh_from_db()
    assert update.told_count == 1
