import uuid
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagement.models import Question
from members.choosing import offer_few

RATINGS = [(str(n), str(n)) for n in range(1, 6)]
# The sessions a survey may be feedback on, around now (see SurveyForm).
SESSIONS_BEFORE_DAYS = 30
SESSIONS_AFTER_DAYS = 60
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _field(question: Question, choices):
    common = {
        "label": question.text,
        "help_text": question.help_text,
        "required": question.required,
        "error_messages": {"required": _("Please answer this question.")},
    }
    kind = question.kind
    if kind == Question.Kind.SHORT_TEXT:
        return forms.CharField(max_length=500, **common)
    if kind == Question.Kind.LONG_TEXT:
        return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)
    if kind == Question.Kind.SINGLE:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == Question.Kind.RATING:
        return forms.ChoiceField(choices=RATINGS, widget=forms.RadioSelect, **common)
    return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)


class SurveyAnswerForm(forms.Form):
    """One field per question, named after it; only choices the survey offers are valid, so
    a tampered form is refused next to the field."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            choices = [(str(c.pk), c.text) for c in question.choices.all()]
            self.fields[f"q{question.pk}"] = _field(question, choices)

    def answers(self):
        """(question, value) for each answered question."""
        for question in self.questions:
            value = self.cleaned_data.get(f"q{question.pk}")
            if value not in (None, "", []):
                yield question, value


class SurveyForm(forms.ModelForm):
    class Meta:
        from engagement.models import Survey

        model = Survey
        fields = ["title", "introduction", "session", "opens_at", "closes_at", "audience",
                  "allow_anonymous", "published"]  # fmt: skip
        widgets = {
            "introduction": forms.Textarea(attrs={"rows": 3}),
            "opens_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "closes_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community
        # The sessions around now are listed, a bounded few, not every session the community
        # ever held: a survey is feedback on one just gone or coming up. The one it is on
        # already stays listed, however old.
        now = timezone.now()
        field = self.fields["session"]
        field.queryset = community.sessions.only("title", "starts_at", "community_id")
        offer_few(
            self,
            "session",
            ranked=lambda sessions: sessions.filter(
                starts_at__gte=now - timedelta(days=SESSIONS_BEFORE_DAYS),
                starts_at__lte=now + timedelta(days=SESSIONS_AFTER_DAYS),
            ).order_by("-starts_at"),
        )
        field.help_text = _(
            "For feedback after a session: sessions from the last %(before)s days and the "
            "next %(after)s days are listed."
        ) % {"before": SESSIONS_BEFORE_DAYS, "after": SESSIONS_AFTER_DAYS}
        for name in ("opens_at", "closes_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M"]

    def clean(self):
        cleaned = super().clean()
        has_questions = self.instance.pk and self.instance.questions.exists()
        if cleaned.get("published") and not has_questions:
            self.add_error(
                "published", _("Add at least one question before publishing the survey.")
            )
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The survey must close after it opens."))
        return cleaned


class QuestionForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=_("Choices, one on each line"),
        help_text=_("Only for questions where people choose one or several."),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    class Meta:
        model = Question
        fields = ["text", "help_text", "kind", "required", "position"]
        error_messages = {"position": {"min_value": _("Use 0 or a higher number.")}}

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.survey = survey
        if self.instance.pk and not self.is_bound:
            self.initial["choices_text"] = "\n".join(c.text for c in self.instance.choices.all())

    def clean(self):
        cleaned = super().clean()
        lines = [
            line.strip() for line in cleaned.get("choices_text", "").splitlines() if line.strip()
        ]
        if cleaned.get("kind") in (Question.Kind.SINGLE, Question.Kind.MULTIPLE) and len(lines) < 2:
            self.add_error("choices_text", _("Give at least two choices, one on each line."))
        if len(set(lines)) != len(lines):
            self.add_error("choices_text", _("Each choice must be different."))
        if any(len(line) > 200 for line in lines):
            self.add_error("choices_text", _("Keep each choice to 200 characters or fewer."))
        if len(lines) > 50:
            self.add_error("choices_text", _("Offer 50 choices at most."))
        cleaned["choices"] = lines
        return cleaned


class PaperDetailsForm(forms.Form):
    """Who the answers on paper came from, and whether they agreed to hear back."""

    # A new one for each sheet of paper: pressing Save twice must not record the sheet twice.
    sheet = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    on_behalf_of = forms.CharField(
        label=_("Whose answers are these?"),
        help_text=_("A name, or a description such as “a carer at the Tuesday drop-in”."),
        max_length=200,
        error_messages={"required": _("Say whose answers these are.")},
    )
    contact_by = forms.ChoiceField(
        label=_("Did they agree to be contacted about what happens next?"),
        choices=[
            ("", _("No")),
            ("email", _("Yes, by email")),
            ("phone", _("Yes, by phone")),
            ("post", _("Yes, by post")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    contact_details = forms.CharField(
        label=_("Their email, phone number or address"), max_length=300, required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("contact_by") and not cleaned.get("contact_details"):
            self.add_error("contact_details", _("Add how to reach them, or choose No."))
        return cleaned
