from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = _("Engagement")

    def ready(self):
        from engagement import calendar
        from engagement.models import Answer, Choice, Question, Response, Session, Survey, Venue
        from members import revisions
        from members.outbox import Kind, register_kind

        # Results kept in the computed cache follow every write to the rows they show, from
        # the services and the admin alike: the feed its community's sessions and venues, a
        # survey's results its questions, choices, responses and answers.
        revisions.follow(Session, calendar.REVISION, "community")
        revisions.follow(Venue, calendar.REVISION, "community")
        # The surveys open now, kept for the community page (engagement.kept).
        from engagement import kept

        revisions.follow(Survey, kept.SURVEYS_REVISION, "community")
        revisions.follow(Question, Survey.RESULTS_REVISION, "survey")
        revisions.follow(Choice, Survey.RESULTS_REVISION, "question__survey")
        revisions.follow(Response, Survey.RESULTS_REVISION, "survey")
        revisions.follow(Answer, Survey.RESULTS_REVISION, "response__survey")
        # The dashboard's payments panel: claims, their expenses and the budget.
        from engagement import payments
        from engagement.models import Claim, Expense, PaymentSettings

        revisions.follow(Claim, payments.CLAIMS_REVISION, "community")
        revisions.follow(Expense, payments.CLAIMS_REVISION, "claim__community")
        revisions.follow(PaymentSettings, payments.CLAIMS_REVISION, "community")

        def session_page(registration):
            return registration.session.get_absolute_url()

        def calendar_file(registration):
            ics = calendar.session_ics(registration.session, registered=True)
            return [("session.ics", ics, "text/calendar")]

        related = ("session__community", "session__venue")
        # Answers to something the person did: always sent.
        for name, attach in [
            ("registration_confirmed", calendar_file),
            ("waiting_list_joined", None),
            ("waiting_list_promoted", calendar_file),
        ]:
            register_kind(Kind(name, None, session_page, related, attach))
        register_kind(
            Kind(
                "survey_closing",
                "reminders",
                lambda survey: survey.get_absolute_url(),
                ("community",),
            )
        )
        for name in ("session_changed", "session_cancelled"):
            # People must hear that the time or place changed, whatever their choices.
            register_kind(
                Kind(name, None, lambda session: session.get_absolute_url(), ("community", "venue"))
            )

        def my_claim(claim):
            return claim.get_absolute_url()

        for name in ("claim_approved", "claim_queried", "claim_rejected", "claim_paid"):
            # News about a person's own money: always sent.
            register_kind(Kind(name, None, my_claim, ("community", "claimant")))
        for name in ("claim_submitted", "claim_answered"):
            register_kind(Kind(name, "alerts", my_claim, ("community", "claimant")))

        from engagement import services
        from members.fanout import register_audience

        register_audience(services.SESSION_AUDIENCE, services.session_audience)
        register_audience(services.SURVEY_CLOSING_AUDIENCE, services.survey_closing_audience)
        register_audience(services.DAY_BEFORE_AUDIENCE, services.day_before_audience)
        register_audience(services.MORNING_AUDIENCE, services.morning_audience)

        from communities.panels import register_panel, register_revisions

        register_panel(
            "dashboard",
            "engagement/payments/panel.html",
            payments.dashboard_panel,
            revisions=(payments.CLAIMS_REVISION,),
        )
        from engagement import access

        register_panel(
            "person",
            "engagement/panels/community_links.html",
            access.community_links,
            revisions=(kept.SURVEYS_REVISION,),
        )
        # The sessions coming up, listed by a template tag on the community page.
        register_revisions("community", calendar.REVISION)

        from engagement import personal_data
        from members.personal_data import Section, register

        # Export only: claims are the community's financial record, kept when a person
        # deletes their account (see engagement.personal_data).
        register(Section(name="claims", export=personal_data.export_claims))
        register(Section(name="payment_choices", export=personal_data.export_payment_choices))

        register_kind(
            Kind(
                "session_reminder",
                "reminders",
                lambda session: session.get_absolute_url(),
                ("community", "venue"),
            )
        )
