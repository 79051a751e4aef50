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
