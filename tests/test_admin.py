"""Site staff can open every model's list and add pages in the Django admin."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda m: f"{m._meta.app_label}.{m._meta.model_name}"
)
def test_admin_pages_open_for_staff(client, staff, community, member, model):
    client.force_login(staff)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(changelist, {"q": "a"}).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert client.get(change).status_code == 200


def test_special_category_answers_are_not_in_the_admin():
    from members.models import EqualityMonitoring

    assert EqualityMonitoring not in admin.site._registry


def test_approve_requests_action(client, staff, community, outsider):
    from communities import services
    from communities.models import Community, Membership

    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    membership = services.join_community(
        community=community, user=outsider, perspectives=["carer"], involvement=[]
    )
    client.force_login(staff)
    client.post(
        reverse("admin:communities_membership_changelist"),
        {"action": "approve_requests", "_selected_action": [membership.pk]},
    )
    assert Membership.objects.get(pk=membership.pk).status == "active"


# Kept out of the admin on purpose, and why.
NOT_IN_THE_ADMIN = {
    "members.EqualityMonitoring": "special-category answers: only counts, on the pages",
    "members.FanOut": "the worker's bookkeeping, shown as progress on the pages",
    "members.FanOutPerson": "the worker's bookkeeping",
    "members.Revision": "numbers the kept parts are keyed by",
    "communities.MembershipPerspective": "shown and chosen on the membership itself",
    "engagement.Choice": "changed on its question's page",
}


def test_every_model_is_in_the_admin_or_left_out_for_a_reason():
    from django.apps import apps

    ours = ("communities", "engagement", "improvement", "members")
    missing = {
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in ours and model not in admin.site._registry
    }
    assert missing == set(NOT_IN_THE_ADMIN)


def test_a_response_page_shows_its_answers(client, staff, community):
    from engagement.models import Answer, Response
    from tests.engagement.test_surveys import make_survey

    survey, clear, topics, rating, words = make_survey(community)
    response = Response.objects.create(survey=survey)
    Answer.objects.create(response=response, question=words, text="Bigger print, please")
    chosen = Answer.objects.create(response=response, question=topics)
    chosen.choices.set(topics.choices.filter(text__in=["Words", "Timing"]))
    client.force_login(staff)
    page = client.get(reverse("admin:engagement_response_change", args=[response.pk]))
    text = page.content.decode()
    assert "Bigger print, please" in text and "Words, Timing" in text
