from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImprovementConfig(AppConfig):
    name = "improvement"
    verbose_name = _("Improvement")

    def ready(self):
        from django.urls import reverse

        from improvement import personal_data
        from improvement.models import Cycle, DataPoint, Measure, Project
        from members import revisions

        # A project's charts, kept in the computed cache, follow every write to its measures,
        # their data points and its cycles, from the services and the admin alike.
        revisions.follow(Measure, Project.CHARTS_REVISION, "project")
        revisions.follow(DataPoint, Project.CHARTS_REVISION, "measure__project")
        revisions.follow(Cycle, Project.CHARTS_REVISION, "project")
        # The loop's figures, kept per community, follow the ideas and updates they count
        # (with the updates' links) and, on the dashboard, sessions, attendance, surveys and
        # their responses too.
        from engagement.models import Registration, Response, Session, Survey
        from improvement import loop
        from improvement.models import Idea, Update

        for kind in (loop.IDEAS_REVISION, loop.LOOP_REVISION):
            revisions.follow(Idea, kind, "community")
            revisions.follow(Update, kind, "community")
        revisions.follow(Session, loop.LOOP_REVISION, "community")
        revisions.follow(Registration, loop.LOOP_REVISION, "session__community")
        revisions.follow(Survey, loop.LOOP_REVISION, "community")
        revisions.follow(Response, loop.LOOP_REVISION, "survey__community")
        # Who contributed to a community's ideas: see `loop.contributor_count`.
        from improvement.models import Comment, Support

        for model, owner in (
            (Idea, "community"),
            (Support, "idea__community"),
            (Comment, "idea__community"),
            (Registration, "session__community"),
            (Response, "survey__community"),
            (Project, "community"),  # and which ideas it takes up
        ):
            revisions.follow(model, loop.CONTRIBUTORS_REVISION, owner)
        # The record the idea and project pages keep: see Idea.RECORD_REVISION.
        from improvement.models import Decision, IdeaEvent, TeamMember, Theme

        for model, owner in (
            (Idea, "community"),  # its title, status and merges, and its themes
            (Decision, "idea__community"),
            (IdeaEvent, "idea__community"),
            (Theme, "community"),
            (Update, "community"),  # and the ideas it is about
            (Project, "community"),  # and the ideas it takes up
            (TeamMember, "project__community"),
        ):
            revisions.follow(model, Idea.RECORD_REVISION, owner)
        revisions.follow(Comment, Idea.DISCUSSION_REVISION, "idea")
        from members.outbox import Kind, register_kind
        from members.personal_data import Section, register

        for name in ("ideas", "supports", "comments", "scores"):
            register(Section(name=name, export=getattr(personal_data, f"export_{name}")))

        register_kind(
            Kind(
                "comment_reported",
                "alerts",
                lambda report: reverse(
                    "improvement:manage_reports", args=[report.comment.idea.community.slug]
                ),
                ("comment__idea__community",),
            )
        )
        register_kind(
            Kind(
                "update_published",
                "updates",
                lambda update: update.get_absolute_url(),
                ("community",),
            )
        )
        register_kind(
            Kind(
                "overdue_inputs",
                "alerts",
                lambda community: reverse("communities:manage_dashboard", args=[community.slug]),
            )
        )
        from improvement.services import updates
        from members.fanout import register_audience

        register_audience(updates.AUDIENCE, updates.update_audience, on_done=updates.record_told)

        from communities.panels import register_panel
        from improvement import loop

        register_panel(
            "dashboard",
            "improvement/panels/loop_dashboard.html",
            loop.dashboard_panel,
            revisions=(loop.LOOP_REVISION,),
        )
        register_panel(
            "community",
            "improvement/panels/loop_public.html",
            loop.public_panel,
            revisions=(loop.IDEAS_REVISION,),
        )
        from improvement import access
        from members import home

        register_panel("person", "improvement/panels/community_links.html", access.community_links)
        home.register("improvement/panels/my_rounds.html", access.my_rounds)
        # A personal invitation to do something: always sent, like a session confirmation.
        register_kind(
            Kind(
                "scoring_invitation",
                None,
                lambda round_: round_.get_absolute_url(),
                ("community",),
            )
        )
