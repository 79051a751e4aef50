from django import forms
from django.utils.translation import gettext_lazy as _

from engagement.models import AccessRequirement


class RegistrationForm(forms.Form):
    access_requirements = forms.MultipleChoiceField(
        label=_("Is there anything you need to take part?"),
        help_text=_(
            "Choose any that apply. Only the community's coordinators and the people running "
            "this session see this, to get things ready for you."
        ),
        choices=AccessRequirement.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    access_details = forms.CharField(
        label=_("Tell us more (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )
