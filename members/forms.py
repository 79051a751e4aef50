from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import OUTWARD_CODE, EqualityMonitoring, User

# The templates write the <form> tag and its buttons; the helpers only group the fields.


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "name",
            "pronouns",
            "access_needs",
            "language",
            "reminders_delivery",
            "updates_delivery",
            "news_delivery",
            "alerts_delivery",
        ]
        help_texts = {
            "name": _("What you like to be called. People in your communities see this name."),
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "nickname"}),
            "access_needs": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(_("About you"), "name", "pronouns", "access_needs"),
            Fieldset(_("Language"), "language"),
            Fieldset(
                _("Emails: when would you like each kind?"),
                "reminders_delivery",
                "updates_delivery",
                "news_delivery",
                "alerts_delivery",
            ),
        )


class EqualityMonitoringForm(forms.ModelForm):
    consent = forms.BooleanField(
        label=_(
            "I agree that Convene keeps these answers to find out whose voices are missing "
            "from our communities. Nobody sees my answers on their own: coordinators see only "
            "totals, and small numbers are hidden. I can withdraw my consent on this page at "
            "any time, and my answers are then deleted."
        ),
        error_messages={
            "required": _("To save your answers, tick this box to say that you agree.")
        },
    )

    class Meta:
        model = EqualityMonitoring
        fields = [
            "age_band",
            "ethnic_group",
            "sex",
            "gender_same_as_birth",
            "disability",
            "postcode_district",
        ]
        widgets = {
            "sex": forms.RadioSelect,
            "gender_same_as_birth": forms.RadioSelect,
            "disability": forms.RadioSelect,
            "postcode_district": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "class": "input-short"}
            ),
        }
        error_messages = {
            "postcode_district": {
                "max_length": _("Enter only the first part of your postcode, such as S10 or BS5."),
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Let a whole postcode be typed, so that the message can say what to enter instead.
        self.fields["postcode_district"].widget.attrs.pop("maxlength", None)
        if self.instance.pk:
            self.fields["consent"].initial = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                _("About you"),
                "age_band",
                "ethnic_group",
                "sex",
                "gender_same_as_birth",
                "disability",
                "postcode_district",
            ),
            Fieldset(_("Your consent"), "consent"),
        )

    def clean_postcode_district(self) -> str:
        value = "".join(self.cleaned_data["postcode_district"].split()).upper()
        if value and not OUTWARD_CODE.match(value):
            raise forms.ValidationError(
                _("Enter only the first part of your postcode, such as S10 or BS5.")
            )
        return value


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this deletes my account, and that it cannot be undone."),
        error_messages={"required": _("Tick this box to confirm that you want to delete it.")},
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your current password."))
        return password
