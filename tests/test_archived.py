"""An archived community is read-only, in every app: every write service refuses with
`ArchivedError` before it writes anything, and every public function of a services module is
listed here as a write, a read, or one of the few writes an archived community still allows.
A new service that is in no table fails `test_every_service_is_in_a_table`."""

import inspect
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import communities.services
import engagement.payments
import engagement.services
import improvement.services.ideas
import improvement.services.projects
import improvement.services.updates
from communities.access import ArchivedError, changeable, may_change
from communities.models import Community, InvolvementOption, Membership, PartnerOrganisation
from engagement.models import (
    Answer,
    KeyPoint,
    Question,
    Registration,
    Response,
    Session,
    Survey,
    Venue,
)
from engagement.models.payments import PaymentSettings, Rate
from improvement.models import (
    Comment,
    CommentReport,
    DataPoint,
    Measure,
    PrioritisationRound,
    Scorer,
    Theme,
    Update,
)
from members.models import Notification
from tests.conftest import make_person
from tests.engagement.test_sessions import make_session
from tests.improvement.factories import make_idea, past_session

pytestmark = pytest.mark.django_db

MODULES = [
    communities.services,
    engagement.services,
    engagement.payments,
    improvement.services.ideas,
    improvement.services.projects,
    improvement.services.updates,
]

# Public functions that change nothing.
READS = {
    "communities.services": {"normalise_text", "invitation_problem"},
    "engagement.services": {
        "day_before_audience", "morning_audience", "people_expected", "session_audience",
        "survey_closing_audience",
    },
    "engagement.payments": {
        "community_today", "fee_for", "choice_of", "tax_year_totals", "kept_tax_year_totals",
        "tax_year_version",
        "spending", "finance_rows", "parse_day", "dashboard_panel", "suggested_rates",
    },
    "improvement.services.updates": {
        "update_audience", "audience_summary", "still_telling", "publishing_progress",
    },
}  # fmt: skip

# Writes an archived community still allows, and why.
ALLOWED = {
    # A member's own acknowledgement, asked of them on their next visit; it changes nothing
    # in the community's record.
    "communities.services.agree_to_ground_rules",
    # Beat's sweeps across communities: their queries leave archived communities out through
    # communities.access.changeable, the filter form of may_change
    # (the reminders at the end of this file; overdue input in test_update_delivery).
    "engagement.services.send_session_reminders",
    "engagement.services.send_survey_closing_reminders",
    "improvement.services.updates.send_overdue_reminders",
    # The worker finishing a promise made before the community was archived: an update
    # published then reaches everyone it was meant for.
    "improvement.services.updates.record_told",
}


class Unsaved:
    """A form for the services that save one: saving it would be a write, so it fails."""

    def __init__(self, instance=None):
        self.instance = instance

    def save(self, commit=True):
        raise AssertionError("a form was saved in an archived community")


@dataclass
class World:
    """One of everything, made while the community ran."""

    community: Community
    coordinator: object
    member: object
    outsider: object


def fresh(obj):
    """The object as a request would find it: read again, so its community is read now."""
    return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def world(community, coordinator, member, outsider):
    w = World(community, coordinator, member, outsider)
    w.requested = Membership.objects.create(
        community=community, user=make_person("rae@example.org"), status="requested"
    )
    w.membership = Membership.objects.get(community=community, user=member)
    w.invitation = communities.services.invite(
        community=community, email="ivy@example.org", role="member", by=coordinator
    )
    w.partner = PartnerOrganisation.objects.create(name="Library trust")
    community.partners.add(w.partner)
    w.venue = Venue.objects.create(community=community, name="Library")
    w.session = past_session(community, status="published")
    w.registration = Registration.objects.create(session=w.session, user=member)
    soon = timezone.now() + timedelta(days=2)
    w.upcoming = past_session(
        community,
        title="Letters clinic",
        status="published",
        starts_at=soon,
        ends_at=soon + timedelta(hours=2),
        registration_required=True,
    )
    w.place = Registration.objects.create(session=w.upcoming, user=member)
    w.key_point = KeyPoint.objects.create(session=w.session, text="Letters come late.")
    w.survey = Survey.objects.create(community=community, title="What would help?", published=True)
    w.question = Question.objects.create(survey=w.survey, text="What?", kind="long_text")
    Rate.objects.create(
        community=community,
        activity="training",
        basis="hour",
        amount="20",
        valid_from=date(2020, 1, 1),
    )
    w.claim = claim(community, member)
    w.idea = make_idea(community, author=member)
    w.other_idea = make_idea(community, author=member, title="Bigger print")
    w.comment = Comment.objects.create(idea=w.idea, author=member, text="Yes please.")
    w.theme = Theme.objects.create(community=community, name="Letters")
    w.round = improvement.services.ideas.create_round(
        community=community, by=coordinator, title="Spring", description="", ideas=[w.idea]
    )
    w.scorer = Scorer.objects.create(round=w.round, user=member)
    w.project = improvement.services.projects.create_project(
        community=community,
        by=coordinator,
        title="Letters on time",
        aim_what="Letters",
        aim_how_much="90%",
        aim_by_when=date(2027, 3, 31),
    )
    w.measure = Measure.objects.create(
        project=w.project, name="On time", definition="Share", kind="outcome", unit="%"
    )
    w.point = DataPoint.objects.create(measure=w.measure, when=date(2026, 1, 5), value=40)
    w.update = Update.objects.create(
        community=community, title="We heard you", what_we_heard="Heard.", what_we_did="Did."
    )
    # A letter to write: the contact list's row.
    w.letter = Notification.objects.create(
        recipient=member,
        email=member.email,
        kind="request_approved",
        channel="post",
        community=community,
        about_type=ContentType.objects.get_for_model(Membership),
        about_id=str(w.membership.pk),
    )
    Community.objects.filter(pk=community.pk).update(status=Community.Status.ARCHIVED)
    return w


def claim(community, person, day=date(2026, 5, 1)):
    return engagement.payments.submit_claim(
        community=community,
        claimant=person,
        by=person,
        expenses=[],
        request=engagement.payments.ClaimRequest(
            kind="hours", activity="training", date=day, hours=Decimal("1")
        ),
    )


# Every write, and how it is called in the world above. One row per way of calling.
C, E, P = communities.services, engagement.services, engagement.payments
D, J, U = (
    improvement.services.ideas,
    improvement.services.projects,
    improvement.services.updates,
)
WRITES = [
    (C.join_community, lambda w: {"community": fresh(w.community), "user": w.outsider,
                                  "perspectives": [], "involvement": []}),
    (C.decide_request, lambda w: {"membership": fresh(w.requested), "approve": True,
                                  "by": w.coordinator}),
    (C.update_choices, lambda w: {"membership": fresh(w.membership), "perspectives": [],
                                  "involvement": []}),
    (C.leave_community, lambda w: {"membership": fresh(w.membership)}),
    (C.change_role, lambda w: {"membership": fresh(w.membership), "role": "coordinator",
                               "by": w.coordinator}),
    (C.remove_member, lambda w: {"membership": fresh(w.membership), "by": w.coordinator}),
    (C.update_community, lambda w: {"community": w.community, "changed": ["name"],
                                    "old_rules": ""}),
    (C.invite, lambda w: {"community": fresh(w.community), "email": "new@example.org",
                          "role": "member", "by": w.coordinator}),
    (C.resend_invitation, lambda w: {"invitation": fresh(w.invitation)}),
    (C.revoke_invitation, lambda w: {"invitation": fresh(w.invitation)}),
    (C.accept_invitation, lambda w: {"invitation": fresh(w.invitation), "user": w.outsider,
                                     "perspectives": [], "involvement": []}),
    (C.save_involvement_option, lambda w: {"community": fresh(w.community), "form": Unsaved()}),
    (C.save_partner, lambda w: {"community": fresh(w.community), "form": Unsaved()}),
    (C.unlink_partner, lambda w: {"community": fresh(w.community), "partner": w.partner}),
    (C.mark_contacted, lambda w: {"row": fresh(w.letter)}),
    (E.register, lambda w: {"session": fresh(w.session), "user": w.member}),
    (E.cancel_registration, lambda w: {"registration": fresh(w.registration)}),
    (E.save_session, lambda w: {"session": fresh(w.session), "changed": ["title"]}),
    (E.publish_session, lambda w: {"session": fresh(w.session)}),
    (E.cancel_session, lambda w: {"session": fresh(w.session)}),
    (E.copy_session, lambda w: {"session": fresh(w.session)}),
    (E.record_attendance, lambda w: {"session": fresh(w.session), "came": [], "walk_in_count": 3,
                                     "walk_in_perspectives": [], "attendance_notes": "",
                                     "completed": True}),
    (E.save_venue, lambda w: {"community": fresh(w.community), "form": Unsaved(w.venue)}),
    (E.add_key_point, lambda w: {"session": fresh(w.session), "text": "More", "by": w.member}),
    (E.remove_key_point, lambda w: {"key_point": fresh(w.key_point)}),
    (E.save_response, lambda w: {"survey": fresh(w.survey), "user": w.member,
                                 "answers": [(w.question, "Sooner")]}),
    (E.save_response, lambda w: {"survey": fresh(w.survey), "user": w.coordinator,
                                 "answers": [(w.question, "Sooner")],
                                 "paper": {"on_behalf_of": "A visitor"}}),
    (E.save_question, lambda w: {"question": fresh(w.question), "choices": []}),
    (E.save_survey, lambda w: {"community": fresh(w.community), "form": Unsaved(w.survey)}),
    (E.remove_question, lambda w: {"question": fresh(w.question)}),
    (P.submit_claim, lambda w: {"community": fresh(w.community), "claimant": w.member,
                                "by": w.member, "expenses": [],
                                "request": P.ClaimRequest(kind="hours", activity="training",
                                                          date=date(2026, 5, 2),
                                                          hours=Decimal("1"))}),
    (P.decide_claim, lambda w: {"claim": fresh(w.claim), "by": w.coordinator,
                                "action": "approve"}),
    (P.answer_query, lambda w: {"claim": fresh(w.claim), "by": w.member, "answer": "Yes"}),
    (P.withdraw_claim, lambda w: {"claim": fresh(w.claim), "by": w.member}),
    (P.mark_paid, lambda w: {"claim": fresh(w.claim), "by": w.coordinator,
                             "paid_on": date(2026, 6, 1), "reference": "BACS"}),
    (P.set_payment_choice, lambda w: {"membership": fresh(w.membership), "choice": "decline"}),
    (P.add_suggested_rates, lambda w: {"community": fresh(w.community),
                                       "valid_from": date(2026, 6, 1)}),
    (P.save_rate, lambda w: {"community": fresh(w.community), "form": Unsaved()}),
    (P.save_payment_settings, lambda w: {"community": fresh(w.community), "form": Unsaved()}),
    (P.save_paid_role, lambda w: {"community": fresh(w.community), "form": Unsaved()}),
    (D.add_idea, lambda w: {"community": fresh(w.community), "by": w.member, "title": "More",
                            "description": "Please."}),
    (D.support_idea, lambda w: {"idea": fresh(w.idea), "user": w.member}),
    (D.withdraw_support, lambda w: {"idea": fresh(w.idea), "user": w.member}),
    (D.add_comment, lambda w: {"idea": fresh(w.idea), "user": w.member, "text": "And more."}),
    (D.edit_comment, lambda w: {"comment": fresh(w.comment), "user": w.member, "text": "Yes."}),
    (D.report_comment, lambda w: {"comment": fresh(w.comment), "by": w.coordinator,
                                  "reason": "Rude"}),
    (D.hide_comment, lambda w: {"comment": fresh(w.comment), "by": w.coordinator,
                                "reason": "Rude"}),
    (D.dismiss_reports, lambda w: {"comment": fresh(w.comment), "by": w.coordinator}),
    (D.change_status, lambda w: {"idea": fresh(w.idea), "status": "prioritised",
                                 "by": w.coordinator}),
    (D.merge_ideas, lambda w: {"source": fresh(w.other_idea), "target": fresh(w.idea),
                               "by": w.coordinator, "note": "Same"}),
    (D.decide, lambda w: {"idea": fresh(w.idea), "outcome": "adopt", "reason": "Yes.",
                          "by": w.coordinator}),
    (D.create_round, lambda w: {"community": fresh(w.community), "by": w.coordinator,
                                "title": "Autumn", "description": "", "ideas": []}),
    (D.invite_scorers, lambda w: {"round": fresh(w.round), "people": {w.coordinator: ""},
                                  "by": w.coordinator}),
    (D.save_round, lambda w: {"round": fresh(w.round), "form": Unsaved(w.round)}),
    (D.save_criteria, lambda w: {"round": fresh(w.round), "formset": Unsaved()}),
    (D.remove_scorer, lambda w: {"round": fresh(w.round), "scorer_id": w.scorer.pk}),
    (D.open_round, lambda w: {"round": fresh(w.round)}),
    (D.record_scores, lambda w: {"round": fresh(w.round), "scorer": w.scorer, "values": {}}),
    (D.close_round, lambda w: {"round": fresh(w.round)}),
    (D.mark_prioritised, lambda w: {"round": fresh(w.round), "ideas": [w.idea],
                                    "by": w.coordinator}),
    (D.save_theme, lambda w: {"community": fresh(w.community), "form": Unsaved(w.theme)}),
    (D.remove_theme, lambda w: {"theme": fresh(w.theme)}),
    (J.create_project, lambda w: {"community": fresh(w.community), "by": w.coordinator,
                                  "title": "Another"}),
    (J.set_team_member, lambda w: {"project": fresh(w.project), "user": w.member,
                                   "role": "member"}),
    (J.save_project, lambda w: {"form": Unsaved(fresh(w.project)), "by": w.coordinator}),
    (J.change_project_status, lambda w: {"project": fresh(w.project), "status": "testing",
                                         "by": w.coordinator}),
    (J.add_point, lambda w: {"measure": fresh(w.measure), "when": date(2026, 2, 2),
                             "value": 50}),
    (J.import_points, lambda w: {"measure": fresh(w.measure),
                                 "content": b"date,value\n2026-03-02,60\n"}),
    (J.publish_result, lambda w: {"project": fresh(w.project), "by": w.coordinator}),
    (J.save_cycle, lambda w: {"project": fresh(w.project), "form": Unsaved()}),
    (J.save_measure, lambda w: {"project": fresh(w.project), "form": Unsaved(w.measure)}),
    (J.remove_point, lambda w: {"point": fresh(w.point)}),
    (J.mark_astronomical, lambda w: {"point": fresh(w.point)}),
    (J.save_result, lambda w: {"project": fresh(w.project), "form": Unsaved(w.project)}),
    (U.save_update, lambda w: {"form": Unsaved(fresh(w.update)), "by": w.coordinator}),
    (U.publish_update, lambda w: {"update": fresh(w.update), "by": w.coordinator}),
]  # fmt: skip

WRITING = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _name(function) -> str:
    return f"{function.__module__}.{function.__name__}"


@pytest.mark.parametrize(
    ("service", "arguments"), WRITES, ids=[f"{_name(s)}-{i}" for i, (s, _a) in enumerate(WRITES)]
)
def test_every_write_service_refuses_an_archived_community(world, service, arguments):
    kwargs = arguments(world)
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(ArchivedError, match="This community is archived"):
            service(**kwargs)
    written = [q["sql"] for q in queries.captured_queries if WRITING.match(q["sql"])]
    assert not written, f"{_name(service)} wrote before refusing: {written}"


def test_every_service_is_in_a_table():
    """A new public function in a services module must be listed: as a write (in WRITES,
    tested above) or a read, or allowed with a reason."""
    writes = {_name(service) for service, _arguments in WRITES}
    for module in MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            qualified = f"{module.__name__}.{name}"
            listed = [
                qualified in writes,
                name in READS.get(module.__name__, set()),
                qualified in ALLOWED,
            ]
            assert sum(listed) == 1, f"{qualified} is in {sum(listed)} tables, not one"


def test_the_tables_name_only_functions_that_exist():
    for module_name, names in READS.items():
        module = next(m for m in MODULES if m.__name__ == module_name)
        for name in names:
            assert inspect.isfunction(getattr(module, name, None)), f"{module_name}.{name}"
    for qualified in ALLOWED:
        module_name, name = qualified.rsplit(".", 1)
        module = next(m for m in MODULES if m.__name__ == module_name)
        assert inspect.isfunction(getattr(module, name, None)), qualified


def test_a_member_deleting_their_account_still_leaves_an_archived_community(world):
    """Erasing an account is the person's own business, not a change to the community."""
    communities.services.leave_community(membership=fresh(world.membership), erasing=True)
    assert fresh(world.membership).status == Membership.Status.LEFT


def test_a_member_may_still_agree_to_ground_rules_in_an_archived_community(world):
    communities.services.agree_to_ground_rules(membership=fresh(world.membership))
    assert fresh(world.membership).rules_agreed_at is not None


# --- Pages ---------------------------------------------------------------------------------

ARCHIVED = "This community is archived"


def _writes(queries) -> list[str]:
    """Statements that changed data, leaving out the login session's own row."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if WRITING.match(q["sql"]) and "django_session" not in q["sql"]
    ]


# Who posts, where, and what: each a write the page would make in a running community.
IDEA = {"title": "More", "description": "Please."}
PRIORITISED = {"status": "prioritised"}


def _answer(w):
    return {f"q{w.question.pk}": "Soon"}


POSTS = [
    ("member", "engagement:session_register", lambda w: [w.upcoming.pk], {}),
    ("member", "engagement:session_cancel", lambda w: [w.upcoming.pk], {}),
    ("member", "engagement:survey", lambda w: [w.survey.pk], _answer),
    ("member", "improvement:idea_new", None, IDEA),
    ("member", "improvement:idea_support", lambda w: [w.idea.pk], {"action": "support"}),
    ("member", "improvement:idea_comment", lambda w: [w.idea.pk], {"text": "Yes please."}),
    ("member", "communities:leave", None, {}),
    ("coordinator", "improvement:idea_on_behalf", None, IDEA),
    ("coordinator", "communities:manage_contact_done", lambda w: [w.letter.pk], {}),
    ("coordinator", "engagement:manage_payment_settings", None, {"budget": "100"}),
    ("coordinator", "engagement:manage_session_publish", lambda w: [w.session.pk], {}),
    ("coordinator", "engagement:manage_key_point_add", lambda w: [w.session.pk], {"text": "More"}),
    ("coordinator", "engagement:manage_venues", None, {"name": "Town hall"}),
    ("coordinator", "engagement:manage_surveys", None, {"title": "Another"}),
    ("coordinator", "improvement:manage_idea_status", lambda w: [w.idea.pk], PRIORITISED),
    ("coordinator", "improvement:manage_themes", None, {"name": "Transport"}),
    ("coordinator", "improvement:manage_update_new", None, {"title": "We did it"}),
    ("partner", "engagement:manage_key_point_add", lambda w: [w.session.pk], {"text": "More"}),
]  # fmt: skip


@pytest.mark.parametrize(("who", "route", "args", "data"), POSTS,
                         ids=[f"{who}-{route}" for who, route, _a, _d in POSTS])  # fmt: skip
def test_every_write_page_refuses_an_archived_community_with_the_message(
    client, world, partner, who, route, args, data
):
    client.force_login(
        {"member": world.member, "coordinator": world.coordinator, "partner": partner}[who]
    )
    address = reverse(route, args=[world.community.slug, *(args(world) if args else [])])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(address, data(world) if callable(data) else data, follow=True)
    assert response.status_code == 200
    told = [str(message) for message in response.context["messages"]]
    assert told == ["This community is archived, so nothing in it can be changed."]
    assert not _writes(queries), f"{route} wrote in an archived community"


def _page(client, person, address) -> str:
    client.force_login(person)
    response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def running(world):
    """The same world, brought back: what the pages offer when the community runs."""
    Community.objects.filter(pk=world.community.pk).update(status=Community.Status.ACTIVE)
    return world


def test_an_archived_ideas_page_offers_no_add_an_idea(client, world):
    page = _page(client, world.member, reverse("improvement:ideas", args=[world.community.slug]))
    assert "Add an idea" not in page
    assert reverse("improvement:idea_new", args=[world.community.slug]) not in page
    assert reverse("improvement:idea_on_behalf", args=[world.community.slug]) not in page
    assert "can be read but not changed" in page


def test_a_running_ideas_page_offers_add_an_idea(client, running):
    page = _page(
        client, running.member, reverse("improvement:ideas", args=[running.community.slug])
    )
    assert reverse("improvement:idea_new", args=[running.community.slug]) in page
    assert "can be read but not changed" not in page


def test_an_archived_idea_form_is_not_shown(client, world):
    client.force_login(world.member)
    response = client.get(reverse("improvement:idea_new", args=[world.community.slug]), follow=True)
    assert response.redirect_chain, "the form was shown"
    assert ARCHIVED in response.content.decode()


def test_an_archived_idea_page_offers_no_support_or_comment(client, world):
    page = _page(client, world.member, world.idea.get_absolute_url())
    support = reverse("improvement:idea_support", args=[world.community.slug, world.idea.pk])
    comment = reverse("improvement:idea_comment", args=[world.community.slug, world.idea.pk])
    assert support not in page and comment not in page
    assert "can be read but not changed" in page


def test_a_running_idea_page_offers_support_and_comment(client, running):
    Membership.objects.filter(user=running.member).update(
        rules_version_agreed=running.community.ground_rules_version
    )
    page = _page(client, running.member, running.idea.get_absolute_url())
    assert (
        reverse("improvement:idea_support", args=[running.community.slug, running.idea.pk]) in page
    )
    assert (
        reverse("improvement:idea_comment", args=[running.community.slug, running.idea.pk]) in page
    )


def test_an_archived_session_page_offers_no_register_or_cancel(client, world, outsider):
    register = reverse(
        "engagement:session_register", args=[world.community.slug, world.upcoming.pk]
    )
    cancel = reverse("engagement:session_cancel", args=[world.community.slug, world.upcoming.pk])
    Registration.objects.filter(pk=world.place.pk).update(status=Registration.Status.CANCELLED)
    page = _page(client, world.member, world.upcoming.get_absolute_url())
    assert register not in page and cancel not in page
    assert "can be read but not changed" in page


def test_a_running_session_page_offers_register_then_cancel(client, running):
    register = reverse(
        "engagement:session_register", args=[running.community.slug, running.upcoming.pk]
    )
    cancel = reverse(
        "engagement:session_cancel", args=[running.community.slug, running.upcoming.pk]
    )
    assert cancel in _page(client, running.member, running.upcoming.get_absolute_url())
    Registration.objects.filter(pk=running.place.pk).update(status=Registration.Status.CANCELLED)
    assert register in _page(client, running.member, running.upcoming.get_absolute_url())


def test_an_archived_survey_shows_no_form(client, world):
    page = _page(client, world.member, world.survey.get_absolute_url())
    assert "Send my answers" not in page
    assert "can be read but not changed" in page


def test_a_running_survey_shows_its_form(client, running):
    assert "Send my answers" in _page(client, running.member, running.survey.get_absolute_url())


def test_an_archived_session_is_run_read_only(client, world):
    """Its runner's page shows who came and what was heard, with nothing to change."""
    address = reverse("engagement:manage_session", args=[world.community.slug, world.session.pk])
    page = _page(client, world.coordinator, address)
    assert "Letters come late." in page
    assert "can be read but not changed" in page
    assert 'method="post"' not in page.split('id="main"')[1]


def test_a_running_session_offers_its_runner_changes(client, running):
    args = [running.community.slug, running.session.pk]
    page = _page(client, running.coordinator, reverse("engagement:manage_session", args=args))
    assert reverse("engagement:manage_key_point_add", args=args) in page
    assert "can be read but not changed" not in page


def _project_pages(client, w) -> tuple[str, str]:
    page = _page(client, w.coordinator, w.project.get_absolute_url())
    projects = _page(
        client, w.coordinator, reverse("improvement:projects", args=[w.community.slug])
    )
    return page, projects


def test_an_archived_project_offers_no_changes(client, world):
    page, projects = _project_pages(client, world)
    assert (
        reverse("improvement:project_edit", args=[world.community.slug, world.project.pk])
        not in page
    )
    assert reverse("improvement:project_new", args=[world.community.slug]) not in projects


def test_a_running_project_offers_its_changes(client, running):
    page, projects = _project_pages(client, running)
    assert (
        reverse("improvement:project_edit", args=[running.community.slug, running.project.pk])
        in page
    )
    assert reverse("improvement:project_new", args=[running.community.slug]) in projects


# --- The coordinators' pages -----------------------------------------------------------------

READ_ONLY = "can be read but not changed"


@pytest.fixture
def managed(world):
    """The world with what the remaining management pages list: a way to take part, a
    reported comment, a closed round and a written survey answer (made directly, as the
    community is archived by now)."""
    w = world
    w.option = InvolvementOption.objects.create(community=w.community, name="Reading group")
    CommentReport.objects.create(comment=w.comment, reporter=w.coordinator, reason="Rude")
    w.closed_round = PrioritisationRound.objects.create(
        community=w.community, title="Winter", status=PrioritisationRound.Status.CLOSED
    )
    w.closed_round.ideas.add(w.other_idea)
    response = Response.objects.create(survey=w.survey, user=w.member)
    w.answer = Answer.objects.create(response=response, question=w.question, text="Sooner")
    return w


def _pk(name):
    return lambda w: [getattr(w, name).pk]


# Each coordinator's page, and what it offers in a running community that it must not offer
# in an archived one: by default a form that posts; for a page whose actions are links, the
# link (a route and its arguments).
MANAGE_PAGES = [
    ("communities:manage_contact_list", None, None),
    ("communities:manage_member", _pk("membership"), None),
    ("communities:manage_requests", None, None),
    ("communities:manage_invitations", None, None),
    ("communities:manage_edit", None, None),
    ("communities:manage_involvement", None, None),
    ("communities:manage_involvement_edit", _pk("option"), None),
    ("communities:manage_partners", None, None),
    ("communities:manage_partner_edit", _pk("partner"), None),
    ("engagement:manage_sessions", None, ("engagement:manage_session_new", None)),
    ("engagement:manage_session_new", None, None),
    ("engagement:manage_session_edit", _pk("upcoming"), None),
    ("engagement:manage_session", _pk("session"), None),
    ("engagement:manage_venues", None, None),
    ("engagement:manage_venue", _pk("venue"), None),
    ("engagement:manage_rates", None, None),
    ("engagement:manage_payment_settings", None, None),
    ("engagement:claim", _pk("claim"), None),
    ("engagement:claim_new", None, None),
    ("engagement:payment_choice", None, None),
    ("engagement:manage_surveys", None, None),
    ("engagement:manage_survey", _pk("survey"), None),
    ("engagement:manage_survey_question_new", _pk("survey"), None),
    ("engagement:manage_survey_question", lambda w: [w.survey.pk, w.question.pk], None),
    ("engagement:manage_survey_paper", _pk("survey"), None),
    ("improvement:manage_idea", _pk("idea"), None),
    ("improvement:manage_themes", None, None),
    ("improvement:manage_theme", _pk("theme"), None),
    ("improvement:manage_reports", None, None),
    ("improvement:manage_comment_hide", _pk("comment"), None),
    ("improvement:manage_idea_from_key_point", _pk("key_point"), None),
    ("improvement:manage_idea_from_answer", _pk("answer"), None),
    ("improvement:manage_rounds", None, None),
    ("improvement:manage_round", _pk("round"), None),
    ("improvement:manage_round_results", _pk("closed_round"), None),
    ("improvement:manage_updates", None, ("improvement:manage_update_new", None)),
    ("improvement:manage_update_new", None, None),
    ("improvement:manage_update", _pk("update"), None),
    ("improvement:idea_on_behalf", None, None),
]  # fmt: skip


def _main(client, w, route, args) -> str:
    """The page's own part, without the layout's sign-out and language forms."""
    address = reverse(route, args=[w.community.slug, *(args(w) if args else [])])
    response = client.get(address, follow=True)
    assert response.status_code == 200
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def _offer(w, offer) -> str:
    if offer is None:
        return 'method="post"'
    route, args = offer
    return reverse(route, args=[w.community.slug, *(args(w) if args else [])])


@pytest.mark.parametrize(("route", "args", "offer"), MANAGE_PAGES,
                         ids=[route for route, _a, _o in MANAGE_PAGES])  # fmt: skip
def test_an_archived_communitys_management_page_is_read_only(client, managed, route, args, offer):
    client.force_login(managed.coordinator)
    with CaptureQueriesContext(connection) as queries:
        page = _main(client, managed, route, args)
    assert READ_ONLY in page
    assert _offer(managed, offer) not in page
    assert 'method="post"' not in page
    assert not _writes(queries), f"looking at {route} wrote"


@pytest.mark.parametrize(("route", "args", "offer"), MANAGE_PAGES,
                         ids=[route for route, _a, _o in MANAGE_PAGES])  # fmt: skip
def test_a_running_communitys_management_page_offers_its_actions(
    client, managed, route, args, offer
):
    Community.objects.filter(pk=managed.community.pk).update(status=Community.Status.ACTIVE)
    client.force_login(managed.coordinator)
    page = _main(client, managed, route, args)
    assert READ_ONLY not in page
    assert _offer(managed, offer) in page


def test_looking_at_payment_settings_writes_nothing_until_they_are_saved(client, running):
    client.force_login(running.coordinator)
    address = reverse("engagement:manage_payment_settings", args=[running.community.slug])
    assert client.get(address).status_code == 200
    assert not PaymentSettings.objects.filter(community=running.community).exists()
    client.post(address, {"budget": "250.00", "threshold": ""})
    assert PaymentSettings.objects.get(community=running.community).budget == Decimal("250.00")


def test_marking_a_letter_done_in_a_running_community(client, running):
    client.force_login(running.coordinator)
    client.post(
        reverse("communities:manage_contact_done", args=[running.community.slug, running.letter.pk])
    )
    assert fresh(running.letter).state == Notification.State.SENT


# --- Beat's sweeps -------------------------------------------------------------------------


def test_no_session_reminders_start_for_an_archived_community(world):
    now = world.upcoming.starts_at - timedelta(hours=20)
    assert engagement.services.send_session_reminders(now=now) == 0
    Community.objects.filter(pk=world.community.pk).update(status=Community.Status.ACTIVE)
    assert engagement.services.send_session_reminders(now=now) == 1


def test_no_survey_closing_reminders_start_for_an_archived_community(world):
    now = timezone.now()
    Survey.objects.filter(pk=world.survey.pk).update(
        audience=Survey.Audience.MEMBERS,
        opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=1),
    )
    assert engagement.services.send_survey_closing_reminders(now=now) == 0
    Community.objects.filter(pk=world.community.pk).update(status=Community.Status.ACTIVE)
    assert engagement.services.send_survey_closing_reminders(now=now) == 1


@pytest.mark.parametrize("status", Community.Status.values)
def test_the_sweeps_filter_says_what_may_change_says(status):
    """One rule, two forms: a community the sweeps pass over is one nothing may change."""
    community = Community.objects.create(name=f"In {status}", slug=f"in-{status}", status=status)
    kept = changeable(Community.objects.filter(pk=community.pk), path="")
    assert kept.exists() == may_change(community)
    session = make_session(community, days=1)
    assert changeable(Session.objects.filter(pk=session.pk)).exists() == may_change(community)
