import zoneinfo
from datetime import UTC

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Membership, Perspective
from engagement.models import Session, Venue
from members.models import User

LOCAL = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    """A date and time as typed, with no time zone yet: the form places it in the
    community's zone (not the site's), and explains the clock-change hours in plain words."""

    def to_python(self, value):
        with timezone.override(UTC):  # UTC has no gaps or repeats: nothing to refuse here
            result = super().to_python(value)
        return result.replace(tzinfo=None) if result else result


class SessionForm(forms.ModelForm):
    """Times are typed in the community's time zone and stored in UTC."""

    starts_at = LocalDateTimeField(
        label=_("Starts"),
        input_formats=[LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
    )
    ends_at = LocalDateTimeField(
        label=_("Ends"),
        input_formats=[LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL),
    )
    online_link = forms.URLField(label=_("Online link"), required=False, assume_scheme="https")

    class Meta:
        model = Session
        fields = [
            "title", "description", "kind", "starts_at", "ends_at", "venue", "online_link", "host",
            "facilitators",
            "capacity", "registration_required", "offers_payment", "offers_refreshments",
            "offers_travel", "offers_childcare", "languages",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "facilitators": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, community, **kwargs):
        self.community = community
        self.zone = zoneinfo.ZoneInfo(community.time_zone)
        super().__init__(*args, **kwargs)
        self.instance.community = community
        self.fields["venue"].queryset = Venue.objects.filter(community=community)
        self.fields["host"].queryset = community.partners.all()
        # Facilitators come from the community's coordinators and partners.
        self.fields["facilitators"].queryset = User.objects.filter(
            memberships__community=community,
            memberships__status=Membership.Status.ACTIVE,
            memberships__role__in=[Membership.Role.COORDINATOR, Membership.Role.PARTNER],
        ).order_by("name", "email")
        self.fields["facilitators"].label_from_instance = lambda user: user.display_name
        self.fields["facilitators"].help_text = _(
            "Partners see and run only the sessions they facilitate."
        )
        for name in ("starts_at", "ends_at"):
            value = getattr(self.instance, name)
            if value and not self.is_bound:
                self.initial[name] = value.astimezone(self.zone).replace(tzinfo=None)

    def _local(self, name):
        naive = self.cleaned_data.get(name)
        if naive is None:
            return None
        local = naive.replace(tzinfo=self.zone)
        # A time inside the hour the clocks skip does not exist: it comes back different.
        if local.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != naive:
            self.add_error(
                name,
                _(
                    "That time does not exist here: the clocks go forward then. Choose a time "
                    "an hour later."
                ),
            )
            return None
        return local

    def clean(self):
        cleaned = super().clean()
        starts, ends = self._local("starts_at"), self._local("ends_at")
        if starts and ends:
            cleaned["starts_at"], cleaned["ends_at"] = starts, ends
            if ends <= starts:
                self.add_error("ends_at", _("The end must be after the start."))
        capacity = cleaned.get("capacity")
        if capacity is not None and self.instance.pk:
            taken = self.instance.registrations.filter(status="registered").count()
            if capacity < taken:
                self.add_error(
                    "capacity",
                    _("%(taken)d people already have a place. Keep at least that many places.")
                    % {"taken": taken},
                )
        return cleaned


class AttendanceForm(forms.Form):
    came = forms.MultipleChoiceField(
        label=_("Who came?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Tick everyone who came. Anyone registered and not ticked is recorded as not coming."
        ),
    )
    walk_in_count = forms.IntegerField(
        label=_("How many came without registering?"),
        min_value=0,
        initial=0,
        error_messages={"min_value": _("Use 0 or a higher number.")},
    )
    walk_in_perspectives = forms.MultipleChoiceField(
        label=_("Perspectives of those who came without registering (optional)"),
        choices=Perspective.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    attendance_notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    completed = forms.BooleanField(label=_("Mark the session as completed"), required=False)

    def __init__(self, *args, registrations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["came"].choices = [(str(r.pk), r.user.display_name) for r in registrations]


class KeyPointForm(forms.Form):
    text = forms.CharField(
        label=_("What did you hear?"),
        help_text=_("One point in a sentence or two. Key points can become ideas later."),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": _("Write the key point first.")},
    )


class VenueForm(forms.ModelForm):
    map_link = forms.URLField(label=_("Map link"), required=False, assume_scheme="https")

    class Meta:
        model = Venue
        fields = [
            "name", "kind", "address", "step_free", "accessible_toilet", "hearing_loop",
            "quiet_space", "parking", "public_transport", "interpreters", "map_link", "notes",
        ]  # fmt: skip
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community
