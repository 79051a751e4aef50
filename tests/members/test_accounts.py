import pytest
from django.db import IntegrityError
from django.urls import reverse

from members.models import Notification, User
from tests.conftest import PASSWORD, make_person

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_stored_in_lower_case():
    user = User.objects.create_user(email="  Nia.Okafor@Example.ORG ", password=PASSWORD)
    assert user.email == "nia.okafor@example.org"
    assert User.USERNAME_FIELD == "email"
    assert not hasattr(user, "username")
    assert User.objects.get_by_natural_key("NIA.OKAFOR@example.org") == user


def test_the_same_address_in_another_case_is_refused_by_the_database():
    User.objects.create_user(email="nia@example.org", password=PASSWORD)
    with pytest.raises(IntegrityError):
        User(email="NIA@example.org").save()


def test_create_superuser_is_staff():
    admin = User.objects.create_superuser(email="root@example.org", password=PASSWORD)
    assert admin.is_staff and admin.is_superuser


def test_sign_up_sends_a_verification_email_and_does_not_log_in(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert len(mailoutbox) == 1
    assert "/accounts/confirm-email/" in mailoutbox[0].body
    # Sent through the outbox, which then forgets the secret link.
    [row] = Notification.objects.filter(kind="account")
    assert row.state == "sent" and row.context == {}
    assert "_auth_user_id" not in client.session


def test_unverified_person_cannot_log_in(client, mailoutbox):
    User.objects.create_user(email="unverified@example.org", password=PASSWORD)
    response = client.post(
        reverse("account_login"), {"login": "unverified@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_short_password_is_refused_and_the_email_is_kept(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "short@example.org", "password1": "eleven-char", "password2": "eleven-char"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert 'value="short@example.org"' in response.content.decode()
    assert not User.objects.filter(email="short@example.org").exists()


def test_repeated_failed_logins_are_rate_limited(client, member):
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": member.email, "password": "wrong-password-1"}
        )
        assert "Too many failed login attempts" not in response.content.decode()
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_does_not_reveal_whether_an_account_exists(client, member, mailoutbox):
    known = client.post(reverse("account_reset_password"), {"email": member.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_reach_the_admin_and_others_do_not(client, staff, member):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    client.force_login(member)
    assert client.get("/admin/").status_code in (302, 403)


def test_logout_is_post_only_from_the_navigation(client, member):
    client.force_login(member)
    page = client.get("/").content.decode()
    assert f'action="{reverse("account_logout")}"' in page
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_login_and_its_rate_limit_work_while_redis_is_down(client, member, settings):
    from celery import current_app

    # Sessions and rate-limit counters live in the database, not in Redis.
    assert "redis" not in settings.CACHES["default"]["BACKEND"].lower()
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    original = current_app.conf.broker_url
    current_app.conf.broker_url = settings.REDIS_URL = "redis://127.0.0.1:1/0"
    try:
        for _ in range(5):
            client.post(reverse("account_login"), {"login": member.email, "password": "nope"})
        limited = client.post(
            reverse("account_login"), {"login": member.email, "password": PASSWORD}
        )
        assert "Too many failed login attempts" in limited.content.decode()
        other = make_person("second@example.org")
        response = client.post(
            reverse("account_login"), {"login": other.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(other.pk)
    finally:
        current_app.conf.broker_url = original
