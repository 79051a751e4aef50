"""The generator: every part, run in order."""

from django.db.models import Count

from communities.models import Membership
from engagement import calendar, kept, payments
from engagement.models import Survey
from improvement import loop
from improvement.models import Idea, Project, Support
from improvement.scale.base import SCALE_PASSWORD, Base, busy_email, coordinator_email
from improvement.scale.engagement import Engagement
from improvement.scale.ideas import Ideas
from improvement.scale.people import People
from improvement.scale.projects import ProjectsAndPayments
from members import revisions


class Generator(Base, People, Engagement, Ideas, ProjectsAndPayments):
    # --- the run ------------------------------------------------------------------------

    def run(self) -> None:
        self.community_and_people()
        self.step("community, people and memberships")
        self.sessions()
        self.step("sessions, registrations and attendance")
        self.survey()
        self.step("survey, responses and answers")
        self.ideas()
        self.step("ideas, decisions and merges")
        self.supports_and_comments()
        self.step("supports and comments")
        self.updates()
        self.step("updates")
        self.project()
        self.step("project, measures and cycles")
        self.claims()
        self.step("rates and claims")
        self.keep_figures()
        self.step("figures the app keeps")
        self.rows.finish()
        self.step("sequences and statistics")

    def keep_figures(self) -> None:
        """Count once the figures the app keeps as rows change. The rows here were written in
        bulk, past the services that keep them, so they are counted from the rows instead:
        ideas' kept support and comment counts. Bulk writes send no signals either, so the
        revisions of the results kept in the computed cache are raised here: the calendar
        feed's, and each survey's and project's."""
        community = self.community
        Idea.objects.filter(community=community).recount()
        surveys = Survey.objects.filter(community=community).values_list("pk", flat=True)
        projects = Project.objects.filter(community=community).values_list("pk", flat=True)
        revisions.bump(
            revisions.key(calendar.REVISION, community.pk),
            *(revisions.key(Survey.RESULTS_REVISION, pk) for pk in surveys),
            *(revisions.key(Project.CHARTS_REVISION, pk) for pk in projects),
            revisions.key(payments.CLAIMS_REVISION, community.pk),
            revisions.key(kept.SURVEYS_REVISION, community.pk),
            revisions.key(Membership.MEMBERS_REVISION, community.pk),
        )
        loop.changed(community)

    # --- the summary --------------------------------------------------------------------

    def busy_inputs(self) -> dict[str, int]:
        return {
            "ideas": self.busy_ideas,
            "supports": self.busy_supports,
            "comments": self.busy_comments,
            "ideas commented on": self.busy_commented,
            "registrations": self.busy_registrations,
            "sessions came to": len(self.came_by_person.get(self.busy, [])),
        }

    def report(self, elapsed: float) -> None:
        out = self.out
        top = (
            Support.objects.filter(idea__community=self.community)
            .values("idea")
            .annotate(n=Count("pk"))
            .order_by("-n", "idea")
            .first()
        )
        out.write("")
        out.write(f"Rows written: {sum(self.rows.written.values()):,}")
        for label, count in sorted(self.rows.written.items()):
            out.write(f"  {label:<36} {count:>9,}")
        busy = self.busy_inputs()
        out.write(f"The busy member's inputs: {', '.join(f'{v:,} {k}' for k, v in busy.items())}")
        out.write(f"The {self.slug!r} community was made in {elapsed:.0f} s.")
        out.write(f"Logins (password: {SCALE_PASSWORD}):")
        out.write(f"  coordinator:  {coordinator_email(self.slug)}")
        out.write(f"  busy member:  {busy_email(self.slug)}")
        out.write(f"community:      /c/{self.slug}/")
        out.write(f"project:        {self.project_obj.pk}")
        out.write(f"survey:         {self.survey_obj.pk}")
        if top:
            out.write(f"idea:           {top['idea']} (the most supported, {top['n']:,})")
