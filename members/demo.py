"""Demo people, one per role, all with the same published password."""

from allauth.account.models import EmailAddress

from members.models import User

DEMO_PASSWORD = "convene-demo-password"

DEMO_PEOPLE = [
    # (email, name, is_staff)
    ("coordinator@example.org", "Cora Coordinator", False),
    ("partner@example.org", "Parveen Partner", False),
    ("member@example.org", "Michael Member", False),
    ("admin@example.org", "Ada Admin", True),
]


def seed(*, out) -> None:
    for email, name, is_staff in DEMO_PEOPLE:
        user, created = User.objects.get_or_create(email=email, defaults={"name": name})
        user.name = name
        user.is_staff = user.is_superuser = is_staff
        user.set_password(DEMO_PASSWORD)
        user.save()
        # Mandatory verification is on, so the demo addresses start verified.
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    out.write(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, _name, is_staff in DEMO_PEOPLE:
        out.write(f"  {email}{' (site admin, /admin/)' if is_staff else ''}")
