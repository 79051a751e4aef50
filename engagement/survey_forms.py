from django import forms
from django.utils.translation import gettext_lazy as _

from engagement.models import Question

RATINGS = [(str(n), str(n)) for n in range(1, 6)]
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
