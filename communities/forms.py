import hashlib

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from communities.models import (
    Community,
    Invitation,
    InvolvementOption,
    Membership,
    MembershipPerspective,
    PartnerOrganisation,
    Perspective,
)
from members.models import User, normalise_email


class MemberField(forms.EmailField):
    """An active member of the community, named by their email address. A community of a
    hundred thousand members cannot be offered as a list to choose from; a coordinator finds
    the address on the members page (which searches names and addresses). Cleans to the
    member's account. Set `community` before the form is cleaned."""

    def __init__(self, *, community: Community | None = None, **kwargs):
        kwargs.setdefault(
            "help_text", _("Their email address, as on the members page, which can search.")
        )
        super().__init__(**kwargs)
        self.community = community

    def prepare_value(self, value):
        return value.email if isinstance(value, User) else value

    def clean(self, value):
        email = super().clean(value)
        if not email:
            return None
        person = (
            User.objects.filter(
                email=normalise_email(email),
                memberships__community=self.community,
                memberships__status=Membership.Status.ACTIVE,
            )
        ).first()
        if person is None:
            raise forms.ValidationError(
                _("No active member of this community has the email address %(email)s."),
                code="not_a_member",
                params={"email": email},
            )
        return person


class ChoicesForm(forms.Form):
    """The perspectives a person brings and the ways they want to take part."""

    perspectives = forms.MultipleChoiceField(
        label=_("Which of these describe you?"),
        help_text=_("Choose all that apply. This helps us see whose voices are in the room."),
        choices=Perspective.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one.")},
    )
    involvement = forms.ModelMultipleChoiceField(
        label=_("How would you like to take part?"),
        help_text=_("Choose as many as you like. You can change this later."),
        queryset=InvolvementOption.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one way to take part.")},
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.fields["involvement"].queryset = community.involvement_options.filter(is_active=True)


class JoinForm(ChoicesForm):
    message = forms.CharField(
        label=_("Anything you would like the coordinators to know? (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
    )
    agree = forms.BooleanField(
        label=_("I have read the ground rules and agree to them."),
        error_messages={"required": _("Please agree to the ground rules to join.")},
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, community=community, **kwargs)
        if community.join_policy != Community.JoinPolicy.APPROVAL:
            del self.fields["message"]
        if not community.ground_rules:
            self.fields["agree"].label = _("I want to join this community.")


class InvitationSignupForm(JoinForm):
    """Accept an invitation and create an account in one step."""

    password1 = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = ["password1", "password2", "perspectives", "involvement", "agree"]

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields.pop("message", None)

    def clean(self):
        from django.contrib.auth import password_validation

        from members.models import User

        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            try:
                password_validation.validate_password(password1, User(email=self.email))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    message = forms.CharField(
        label=_("Message to the person (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "email": {"invalid": _("Enter a whole email address, like name@example.org.")}
        }


class RoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "organisation"]
        help_texts = {
            "organisation": _(
                "For a partner: the organisation they work for. They run the sessions it hosts."
            )
        }

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = community.partners.all()
        self.fields["organisation"].empty_label = _("None")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("organisation") and cleaned.get("role") != Membership.Role.PARTNER:
            self.add_error("organisation", _("Only partners belong to a partner organisation."))
        return cleaned


class CommunityForm(forms.ModelForm):
    class Meta:
        model = Community
        fields = [
            "name",
            "slug",
            "purpose",
            "serves",
            "description",
            "ground_rules",
            "join_policy",
            "listed",
            "status",
            "legacy_note",
            "update_promise_days",
            "time_zone",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "serves": forms.Textarea(attrs={"rows": 2}),
            "ground_rules": forms.Textarea(attrs={"rows": 6}),
            "legacy_note": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {"purpose": {"required": _("Say what this community is for.")}}


class InvolvementOptionForm(forms.ModelForm):
    class Meta:
        model = InvolvementOption
        fields = ["name", "description", "position", "is_active"]
        error_messages = {"position": {"min_value": _("Use 0 or a higher number.")}}

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community

    def validate_unique(self):
        # community is not a form field, so ModelForm would skip the (community, name) check.
        try:
            self.instance.validate_constraints()
        except forms.ValidationError:
            self.add_error(
                "name", _("This community already offers a way to take part with this name.")
            )


class PartnerForm(forms.ModelForm):
    website = forms.URLField(
        label=_("Website"), required=False, assume_scheme="https", max_length=200
    )

    class Meta:
        model = PartnerOrganisation
        fields = ["name", "kind", "website", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by name or email"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("Any"))] + Membership.Role.choices, required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any"))] + Membership.Status.choices, required=False
    )
    perspective = forms.ChoiceField(
        label=_("Perspective"), choices=[("", _("Any"))] + Perspective.choices, required=False
    )
    involvement = forms.ModelChoiceField(
        label=_("Way of taking part"),
        queryset=InvolvementOption.objects.none(),
        required=False,
        empty_label=_("Any"),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["involvement"].queryset = community.involvement_options.all()

    def digest(self) -> str:
        """What the form filters by, as a short stable text: part of the key a filtered
        list is kept under."""
        chosen = self.cleaned_data if self.is_bound and self.is_valid() else {}
        parts = [(name, getattr(value, "pk", value)) for name, value in sorted(chosen.items())]
        return hashlib.md5(repr(parts).encode(), usedforsecurity=False).hexdigest()

    def filter(self, memberships):
        if not self.is_valid():
            return memberships
        data = self.cleaned_data
        if data["q"]:
            memberships = memberships.filter(
                Q(user__name__icontains=data["q"]) | Q(user__email__icontains=data["q"])
            )
        if data["role"]:
            memberships = memberships.filter(role=data["role"])
        if data["status"]:
            memberships = memberships.filter(status=data["status"])
        # Exists rather than a join: each member is one row, so lists need no DISTINCT.
        if data["perspective"]:
            memberships = memberships.filter(
                Exists(
                    MembershipPerspective.objects.filter(
                        membership=OuterRef("pk"), perspective=data["perspective"]
                    )
                )
            )
        if data["involvement"]:
            memberships = memberships.filter(
                Exists(
                    Membership.involvement.through.objects.filter(
                        membership=OuterRef("pk"), involvementoption=data["involvement"]
                    )
                )
            )
        return memberships
