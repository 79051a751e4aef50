from django import forms
from django.core.validators import validate_email
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from communities.forms import MemberField
from communities.models import Community
from engagement.models import Session, Survey
from improvement import loop
from improvement.charts import DriverError, parse_drivers
from improvement.models import (
    CONTACT_CHOICES,
    Comment,
    Criterion,
    Cycle,
    DataPoint,
    Decision,
    Idea,
    Measure,
    PrioritisationRound,
    Project,
    Scorer,
    TeamMember,
    Theme,
    Update,
)
from members.choosing import OFFERED, offer_few


class IdeaForm(forms.ModelForm):
    """An idea in a member's own words: short enough to fill in on a phone."""

    class Meta:
        model = Idea
        fields = ["title", "description", "themes"]
        labels = {
            "title": _("Your idea in a few words"),
            "description": _("Tell us more"),
            "themes": _("Which themes does it touch? (optional)"),
        }
        help_texts = {
            "title": _("Up to 150 characters."),
            "description": _("What would help, and who would it help? Up to 4,000 characters."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "themes": forms.CheckboxSelectMultiple,
        }
        error_messages = {
            "title": {"required": _("Give the idea a short title.")},
            "description": {"required": _("Say a little more about the idea.")},
        }

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = community.themes.all()
        if not self.fields["themes"].queryset.exists():
            del self.fields["themes"]

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Give the idea a short title."))
        return title


class EnteredIdeaForm(IdeaForm):
    """An idea a coordinator writes up from what someone said or wrote."""

    class Meta(IdeaForm.Meta):
        labels = {
            "title": _("The idea in a few words"),
            "description": _("The idea as they put it"),
            "themes": _("Themes (optional)"),
        }
        help_texts = {}


class OnBehalfIdeaForm(EnteredIdeaForm):
    """An idea typed in by a coordinator or partner, from paper or from a session."""

    source = forms.ChoiceField(
        label=_("Where it came from"),
        choices=[(Idea.Source.PAPER, _("From paper")), (Idea.Source.SESSION, _("At a session"))],
        widget=forms.RadioSelect,
        initial=Idea.Source.PAPER,
    )
    session = forms.ModelChoiceField(
        label=_("Which session (if at a session)"), queryset=Session.objects.none(), required=False
    )
    on_behalf_of = forms.CharField(
        label=_("Whose idea this is"),
        max_length=200,
        help_text=Idea._meta.get_field("on_behalf_of").help_text,
    )
    contact_by = forms.ChoiceField(
        label=_("How they agreed to be contacted about what happens"),
        choices=CONTACT_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    contact_details = forms.CharField(
        label=_("Their email address, phone number or postal address"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, community=community, **kwargs)
        self.fields["session"].queryset = Session.objects.filter(community=community).only(
            "title", "starts_at", "community_id"
        )
        offer_few(self, "session", ranked=lambda sessions: sessions.order_by("-starts_at"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") == Idea.Source.SESSION and not cleaned.get("session"):
            self.add_error("session", _("Choose the session the idea came from."))
        if cleaned.get("contact_by") and not (cleaned.get("contact_details") or "").strip():
            self.add_error(
                "contact_details", _("Add how to reach them, or choose “Not to be contacted”.")
            )
        elif cleaned.get("contact_by") == "email":
            try:
                validate_email(cleaned["contact_details"].strip())
            except forms.ValidationError:
                self.add_error(
                    "contact_details",
                    _("That is not an email address. Check it, or choose another way."),
                )
        return cleaned

    def on_behalf(self) -> dict:
        data = self.cleaned_data
        return {
            "on_behalf_of": data["on_behalf_of"].strip(),
            "contact_by": data["contact_by"],
            "contact_details": data["contact_details"].strip() if data["contact_by"] else "",
        }


class IdeaFilterForm(forms.Form):
    SORTS = [
        ("newest", _("Newest first")),
        ("supported", _("Most supported")),
        ("decided", _("Recently decided")),
    ]

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    theme = forms.ModelChoiceField(
        label=_("Theme"), queryset=Theme.objects.none(), required=False, empty_label=_("Any")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any"))] + Idea.Status.choices, required=False
    )
    source = forms.ChoiceField(
        label=_("Where it came from"),
        choices=[("", _("Anywhere"))] + Idea.Source.choices,
        required=False,
    )
    sort = forms.ChoiceField(label=_("Order"), choices=SORTS, required=False)

    def __init__(self, *args, community: Community, themes=None, **kwargs):
        """`themes`, the community's themes as (pk, name) pairs, where the caller has them
        kept: then they are not read again to be offered."""
        super().__init__(*args, **kwargs)
        field = self.fields["theme"]
        field.queryset = community.themes.all()
        if themes is not None:
            field.choices = [("", field.empty_label), *themes]

    def narrows(self) -> bool:
        """Whether the list is narrowed down (by words, theme, status or where ideas came
        from), rather than every standing idea in some order."""
        data = self.cleaned_data if self.is_valid() else {}
        return any(data.get(name) for name in ("q", "theme", "status", "source"))

    def filter(self, ideas):
        """Filtered and ordered ideas; with bad input, the newest of all standing ideas."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("status"):
            ideas = ideas.filter(status=data["status"])
        else:
            ideas = ideas.listed()
        if data.get("theme"):
            ideas = ideas.filter(themes=data["theme"])
        if data.get("source"):
            ideas = ideas.filter(source=data["source"])
        ideas = ideas.search(data.get("q") or "")
        sort = data.get("sort") or "newest"
        if sort == "supported":
            return ideas.order_by("-support_count", "-created_at", "-pk")
        if sort == "decided":
            return ideas.order_by(F("decided_at").desc(nulls_last=True), "-created_at", "-pk")
        return ideas.order_by("-created_at", "-pk")


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["text"]
        labels = {"text": _("Your comment")}
        help_texts = {"text": _("Be kind and keep to the ground rules. Up to 2,000 characters.")}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"text": {"required": _("Write something before posting.")}}

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write something before posting."))
        return text


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with this comment?"),
        help_text=_("Only the coordinators see this."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is hidden"),
        help_text=_("Shown in place of the comment, so say it kindly and plainly."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=())
    note = forms.CharField(
        label=_("Note for the history (optional)"), required=False, max_length=500
    )

    def __init__(self, *args, idea: Idea, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = idea.allowed_statuses()


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["outcome", "reason"]
        widgets = {
            "outcome": forms.RadioSelect,
            "reason": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {
            "outcome": {"required": _("Choose what was decided.")},
            "reason": {"required": _("Give the reason for the decision, in plain language.")},
        }
        help_texts = {
            "reason": _(
                "Everyone who gave input will read this. Say what was decided and why, "
                "including what got in the way if it cannot be done."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = Decision.Outcome.choices  # no blank choice

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for the decision, in plain language."))
        return reason


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label=_("Merge this idea into"), queryset=Idea.objects.none(), empty_label=None
    )
    note = forms.CharField(
        label=_("Why they are the same (shown on both ideas)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, idea: Idea, find: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            Idea.objects.filter(community_id=idea.community_id)
            .listed()
            .exclude(pk=idea.pk)
            .only("pk", "title")
        )
        offer_few(self, "target", ranked=_most_supported, find=find, search=_ideas_search)


class ThemeForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["name", "description", "position"]

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.instance.community = community

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = (
            Theme.objects.filter(community=self.community)
            .annotate(lower=Lower("name"))
            .filter(lower=name.lower())
            .exclude(pk=self.instance.pk)
        )
        if clash.exists():
            raise forms.ValidationError(_("There is already a theme with that name."))
        return name


class RoundForm(forms.ModelForm):
    class Meta:
        model = PrioritisationRound
        fields = ["title", "description", "ideas"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "ideas": forms.CheckboxSelectMultiple,
        }
        help_texts = {"ideas": _("Choose the ideas to score. Merged and done ideas are not shown.")}

    def __init__(self, *args, community: Community, find: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community
        if self.instance.pk and self.instance.status != PrioritisationRound.Status.DRAFT:
            del self.fields["ideas"]  # fixed once scoring has started
            return
        self.fields["ideas"].queryset = (
            Idea.objects.filter(community=community).listed().exclude(status=Idea.Status.DONE)
        )
        offer_few(self, "ideas", ranked=_most_supported, find=find, search=_ideas_search)


CriterionFormSet = forms.modelformset_factory(
    Criterion,
    fields=["name", "description", "weight"],
    extra=1,
    can_delete=True,
    widgets={"weight": forms.NumberInput(attrs={"min": 1, "max": 10})},
)


class ScorerForm(forms.Form):
    person = MemberField(label=_("Person"))
    group = forms.ChoiceField(
        label=_("Their scores count as"),
        choices=[("", _("Decide from the perspectives they bring"))] + Scorer.Group.choices,
        required=False,
        help_text=_("Patients, carers and community groups count as community members."),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.fields["person"].community = community

    def people(self) -> dict:
        person = self.cleaned_data["person"]
        group = self.cleaned_data["group"]
        if not group:
            membership = person.memberships.filter(community=self.community).first()
            group = Scorer.group_for(membership.perspectives if membership else [])
        return {person: group}


SCORE_CHOICES = [("", _("Not scored"))] + [(str(n), str(n)) for n in range(1, 6)]


class ScoreSheetForm(forms.Form):
    """One field per idea and criterion, each a choice from 1 to 5 (or not scored)."""

    def __init__(self, *args, ideas, criteria, scores: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for idea in ideas:
            cells = []
            for criterion in criteria:
                name = f"score_{idea.pk}_{criterion.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    label=criterion.name,
                    choices=SCORE_CHOICES,
                    coerce=int,
                    empty_value=None,
                    required=False,
                    initial=scores.get((idea.pk, criterion.pk)),
                    widget=forms.RadioSelect,
                    error_messages={"invalid_choice": _("Choose a score from 1 to 5.")},
                )
                cells.append((criterion, self[name]))
            self.rows.append((idea, cells))

    def values(self) -> dict[tuple[int, int], int | None]:
        out = {}
        for name, value in self.cleaned_data.items():
            _prefix, idea_id, criterion_id = name.split("_")
            out[(int(idea_id), int(criterion_id))] = value
        return out


class ChooseIdeasForm(forms.Form):
    ideas = forms.ModelMultipleChoiceField(
        label=_("Mark these ideas as prioritised"),
        queryset=Idea.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, round: PrioritisationRound, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ideas"].queryset = round.ideas.exclude(
            status__in=[Idea.Status.MERGED, Idea.Status.DONE, Idea.Status.PRIORITISED]
        ).order_by("title")


class UpdateForm(forms.ModelForm):
    """A "you said, we did" update, in plain language, and whose input it answers."""

    class Meta:
        model = Update
        fields = ["title", "what_we_heard", "what_we_did", "what_next", "ideas", "sessions",
                  "surveys"]  # fmt: skip
        widgets = {
            "what_we_heard": forms.Textarea(attrs={"rows": 4}),
            "what_we_did": forms.Textarea(attrs={"rows": 6}),
            "what_next": forms.Textarea(attrs={"rows": 3}),
            "ideas": forms.CheckboxSelectMultiple,
            "sessions": forms.CheckboxSelectMultiple,
            "surveys": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "title": _("A short headline, such as “Clinic letters will come a week sooner”."),
            "what_we_heard": _("What people told us, in their words where you can."),
            "what_we_did": _(
                "What changed, what is changing, or what we could not do and why. Be as plain "
                "and honest when the answer is no."
            ),
            "what_next": _("What happens now, and when people will hear more."),
            "ideas": _("Everyone who gave, supported or discussed these ideas will be told."),
            "sessions": _("Everyone recorded as coming to these sessions will be told."),
            "surveys": _("Everyone who answered these surveys will be told."),
        }
        error_messages = {
            "title": {"required": _("Give the update a short headline.")},
            "what_we_heard": {"required": _("Say what we heard.")},
            "what_we_did": {"required": _("Say what we did, or could not do, and why.")},
        }

    def __init__(self, *args, community: Community, find: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community
        self.fields["ideas"].queryset = Idea.objects.filter(community=community).listed()
        # The ideas decided longest ago that no update has answered yet come first, then
        # the newest.
        untold = loop.oldest_untold(community, OFFERED)
        offer_few(
            self,
            "ideas",
            ranked=lambda ideas: [
                *ideas.filter(pk__in=untold).order_by("decided_at", "pk"),
                *ideas.exclude(pk__in=untold).order_by("-created_at")[:OFFERED],
            ],
            find=find,
            search=_ideas_search,
        )
        self.fields["sessions"].queryset = (
            Session.objects.filter(community=community, starts_at__lte=timezone.now())
            .exclude(status__in=[Session.Status.DRAFT, Session.Status.CANCELLED])
            .only("title", "starts_at", "community_id")
        )
        self.fields["sessions"].label_from_instance = lambda s: (
            f"{s.title} ({date_format(s.starts_at, 'j M Y')})"
        )
        offer_few(self, "sessions", ranked=lambda sessions: sessions.order_by("-starts_at"))
        self.fields["surveys"].queryset = Survey.objects.filter(
            community=community, published=True
        ).order_by("-opens_at")

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("ideas") or cleaned.get("sessions") or cleaned.get("surveys")):
            self.add_error(
                "ideas",
                _(
                    "Choose at least one idea, session or survey, so we know whose input it "
                    "answers."
                ),
            )
        return cleaned


class _ThemeChoice(forms.ModelChoiceField):
    """A theme chosen from those the form has already read: checked against them, not read
    again."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        theme = self.read.get(str(value))
        if theme is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return theme


class BoardFilterForm(forms.Form):
    theme = _ThemeChoice(
        label=_("Theme"), queryset=Theme.objects.none(), required=False, empty_label=_("Any")
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["theme"]
        field.queryset = community.themes.all()
        # The community's themes, read once: the choices drawn (and digested when the form is
        # kept rendered) and the choice checked.
        field.read = {str(theme.pk): theme for theme in field.queryset}
        field.choices = [
            ("", field.empty_label),
            *((theme.pk, theme.name) for theme in field.read.values()),
        ]


# --- Improvement projects ----------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["title", "aim_what", "aim_how_much", "aim_by_when", "ideas", "driver_diagram"]
        widgets = {
            "aim_what": forms.Textarea(attrs={"rows": 2}),
            "aim_by_when": DATE_INPUT,
            "ideas": forms.CheckboxSelectMultiple,
            "driver_diagram": forms.Textarea(attrs={"rows": 8, "class": "font-monospace"}),
        }
        error_messages = {
            "title": {"required": _("Give the project a short title.")},
            "aim_what": {"required": _("Say what will improve.")},
            "aim_how_much": {"required": _("Say by how much.")},
            "aim_by_when": {
                "required": _("Say by when."),
                "invalid": _("Enter a date like 2027-03-31."),
            },
        }

    def __init__(self, *args, community: Community, find: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.community = community
        linkable = Q(
            status__in=[Idea.Status.PRIORITISED, Idea.Status.IN_PROGRESS, Idea.Status.DONE]
        )
        if self.instance.pk:
            linkable |= Q(projects=self.instance)  # keep what is linked already
        self.fields["ideas"].queryset = Idea.objects.filter(community=community).filter(linkable)
        self.fields["ideas"].help_text = _("The prioritised ideas this project puts into practice.")
        offer_few(self, "ideas", ranked=_most_supported, find=find, search=_ideas_search)

    def clean_driver_diagram(self):
        text = self.cleaned_data["driver_diagram"]
        try:
            parse_drivers(text)
        except DriverError as error:
            raise forms.ValidationError(error.problems) from None
        return text


class TeamForm(forms.Form):
    person = MemberField(label=_("Person"))
    role = forms.ChoiceField(label=_("Role"), choices=TeamMember.Role.choices)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].community = community


class ProjectStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Move the project to"), choices=())

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = project.NEXT_STATUSES[project.status]
        self.fields["status"].choices = [
            (value, label) for value, label in Project.Status.choices if value in allowed
        ]


class CycleForm(forms.ModelForm):
    class Meta:
        model = Cycle
        fields = ["change", "prediction", "measuring", "starts_on", "ends_on", "do", "study",
                  "act", "act_notes"]  # fmt: skip
        widgets = {
            "prediction": forms.Textarea(attrs={"rows": 2}),
            "measuring": forms.Textarea(attrs={"rows": 2}),
            "do": forms.Textarea(attrs={"rows": 3}),
            "study": forms.Textarea(attrs={"rows": 3}),
            "act_notes": forms.Textarea(attrs={"rows": 2}),
            "starts_on": DATE_INPUT,
            "ends_on": DATE_INPUT,
            "act": forms.RadioSelect,
        }

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.project = project
        self.fields["act"].choices = [("", _("Not decided yet"))] + Cycle.Act.choices


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["name", "definition", "kind", "unit", "higher_is_better", "target", "chart",
                  "baseline_until", "rebase_from", "screen_moving_ranges"]  # fmt: skip
        widgets = {
            "definition": forms.Textarea(attrs={"rows": 3}),
            "kind": forms.RadioSelect,
            "chart": forms.RadioSelect,
            "baseline_until": DATE_INPUT,
            "rebase_from": DATE_INPUT,
        }

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.project = project
        self.fields["kind"].choices = Measure.Kind.choices  # no blank choice


class PointForm(forms.ModelForm):
    class Meta:
        model = DataPoint
        fields = ["when", "value", "note"]
        widgets = {"when": DATE_INPUT}
        error_messages = {
            "when": {"invalid": _("Enter a date like 2026-03-31.")},
            "value": {"invalid": _("Enter a number, such as 42 or 3.5.")},
        }


class CsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "A first line of column names, date, value and (if you like) note, then one row "
            "per point, dates like 2026-03-31. Nothing is imported unless every row is right."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ResultForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["result"]
        widgets = {"result": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "result": _(
                "In plain words for the people whose ideas started this: what changed, what "
                "the measures showed, and what happens now."
            )
        }


# --- Choosing among thousands ------------------------------------------------------------------


def _ideas_search(ideas, words: str):
    return ideas.search(words).order_by("-support_count", "-created_at")


def _most_supported(ideas):
    return ideas.order_by("-support_count", "-created_at")
