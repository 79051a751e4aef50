"""A project with its measures and cycles, and paying people: rates and claims."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engagement import payments
from engagement.models import (
    Activity,
    Basis,
    Claim,
    Expense,
    PaidRole,
    PaymentChoice,
    PaymentSettings,
    Rate,
)
from improvement.models import (
    Cycle,
    DataPoint,
    Idea,
    Measure,
    Project,
    TeamMember,
)
from improvement.scale.base import CLAIM_STATUSES, DAY, THINGS, pick
from members.models import User


class ProjectsAndPayments:
    # --- a project ----------------------------------------------------------------------

    def project(self) -> None:
        rng = self.rng
        lead = User.objects.get(pk=self.uid(0))
        working = [
            self.idea_ids[i]
            for i in self.standing
            if self.idea_status[i] in (Idea.Status.IN_PROGRESS, Idea.Status.DONE)
        ][:20]
        project = Project.objects.create(
            community=self.community,
            title="Clinic letters before the appointment",
            aim_what="People get their clinic letter before their appointment.",
            aim_how_much="from 40% to 90%",
            aim_by_when=(self.now + 180 * DAY).date(),
            status=Project.Status.TESTING,
            starts_on=(self.now - 320 * DAY).date(),
            driver_diagram="Letters sent on time\n  Typing capacity\n    Templates for "
            "common letters\n  Sending\n    Email letters to people who agree",
            created_by=lead,
            created_at=self.now - 330 * DAY,
        )
        project.ideas.set(working)
        TeamMember.objects.create(project=project, user=lead, role=TeamMember.Role.LEAD)
        for person in rng.sample(self.active[3:], min(4, len(self.active) - 3)):
            TeamMember.objects.create(project=project, user_id=self.uid(person))
        Project.objects.create(
            community=self.community,
            title="Evening clinics",
            aim_what="Working people can come to clinic.",
            aim_how_much="20 evening slots a month",
            aim_by_when=(self.now + 365 * DAY).date(),
            created_by=lead,
        )
        points = []
        specs = [
            ("Letters sent before the appointment", "%", Measure.Chart.RUN, 40.0, 90.0),
            ("Days from clinic to letter", "days", Measure.Chart.XMR, 14.0, 5.0),
            ("Calls to the helpline about letters", "calls", Measure.Chart.RUN, 60.0, 20.0),
        ]
        for position, (name, unit, chart, begin, end) in enumerate(specs):
            measure = Measure.objects.create(
                project=project,
                name=name,
                unit=unit,
                chart=chart,
                position=position,
                kind=Measure.Kind.OUTCOME if position == 0 else Measure.Kind.PROCESS,
                definition=f"{name}, counted each day from the clinic system.",
                higher_is_better=end > begin,
                target=end,
                baseline_until=(self.now - 280 * DAY).date() if chart == "run" else None,
                rebase_from=(self.now - 150 * DAY).date() if chart == "xmr" else None,
            )
            for day in range(300):
                share = day / 300
                value = begin + (end - begin) * share + rng.gauss(0, abs(end - begin) / 10)
                points.append(
                    (
                        measure.pk,
                        (self.now - (300 - day) * DAY).date(),
                        round(max(value, 0.0), 1),
                        "",
                        False,
                    )
                )
        self.rows.write(DataPoint, "measure_id when value note astronomical", points)
        cycles = []
        for n in range(24):
            starts = (self.now - (320 - 13 * n) * DAY).date()
            finished = n < 22
            cycles.append(
                (
                    project.pk,
                    f"Test {n + 1}: {rng.choice(THINGS)}",
                    "More letters on time.",
                    "Letters sent before the appointment.",
                    "We tried it for a week." if finished else "",
                    "It helped a little." if finished else "",
                    rng.choice(["adopt", "adapt", "abandon"]) if finished else "",
                    "",
                    starts,
                    starts + 12 * DAY if finished else None,
                    self.now - (320 - 13 * n) * DAY,
                )
            )
        self.rows.write(
            Cycle,
            "project_id change prediction measuring do study act act_notes starts_on ends_on "
            "created_at",
            cycles,
        )
        self.project_obj = project

    # --- payments -----------------------------------------------------------------------

    def claims(self) -> None:
        rng, n = self.rng, self.sizes["claims"]
        c = self.community
        rates = {}
        for row in payments.suggested_rates():
            old, new = Decimal(row["amount"]), Decimal(row["amount"]) * Decimal("1.1")
            for valid_from, amount in (
                (self.start.date(), old),
                ((self.now - 365 * DAY).date(), new.quantize(Decimal("0.01"))),
            ):
                rate = Rate.objects.create(
                    community=c,
                    activity=row["activity"],
                    basis=row["basis"],
                    amount=amount,
                    valid_from=valid_from,
                )
                rates.setdefault(row["activity"], []).append(rate)
        PaymentSettings.objects.create(
            community=c, budget=Decimal("250000"), threshold=Decimal("1000")
        )
        claimants = rng.sample(self.active, min(len(self.active), max(1, n // 5)))
        membership_of = {p: self.membership_ids[p] for p in claimants}
        choices = {}
        choice_rows = []
        for person in claimants:
            kind = rng.choices(["accept", "lower", "charity", "decline"], [0.8, 0.08, 0.05, 0.07])[
                0
            ]
            choice = PaymentChoice(
                choice=kind,
                lower_percent=50 if kind == "lower" else None,
                charity="Crohn's & Colitis UK" if kind == "charity" else "",
            )
            choices[person] = choice
            choice_rows.append(
                (membership_of[person], kind, choice.lower_percent, choice.charity, self.now)
            )
        self.rows.write(
            PaymentChoice,
            "membership_id choice lower_percent charity updated_at",
            choice_rows,
        )
        roles = {}
        for person in claimants[:20]:
            roles[person] = PaidRole.objects.create(
                membership_id=membership_of[person],
                title="Delivery group member",
                hours_per_month=Decimal("8"),
                hourly_rate=Decimal("27.50"),
                starts_on=(self.now - 700 * DAY).date(),
            )
        ids = list(self.rows.ids(Claim, n))
        rows, expenses, claimed = [], [], set()
        for k in range(n):
            person = rng.choice(claimants)
            row = self._claim(person, choices[person], roles.get(person), rates, claimed)
            status = pick(rng, CLAIM_STATUSES)
            made = datetime.combine(row["date"], datetime.min.time(), UTC) + DAY
            made = min(made, self.now)
            decided = status not in ("submitted", "queried", "withdrawn")
            paid = status == "paid"
            rows.append(
                (
                    ids[k],
                    c.pk,
                    self.uid(person),
                    row["kind"],
                    row["session"],
                    row["activity"],
                    row["role"],
                    row["date"],
                    row["hours"],
                    row["rate"],
                    row["amount"],
                    row["basis"],
                    row["fee"],
                    row["choice"].choice,
                    row["choice"].payable(row["fee"]),
                    row["choice"].charity,
                    status,
                    row["not_attending"],
                    "Which meeting was this?" if status == "queried" else "",
                    "Not a paid activity." if status == "rejected" else "",
                    self.uid(0) if decided else None,
                    made + DAY if decided else None,
                    (made + 10 * DAY).date() if paid else None,
                    f"BACS-{k:06d}" if paid else "",
                    made,
                    made + (DAY if decided else timedelta(0)),
                )
            )
            if rng.random() < 0.3:
                expenses.append(
                    (
                        ids[k],
                        Expense.Kind.TRAVEL,
                        "Bus fare",
                        Decimal(rng.randint(2, 20)) + Decimal("0.50"),
                    )
                )
        self.rows.write(
            Claim,
            "id community_id claimant_id kind session_id activity paid_role_id date hours rate_id "
            "rate_amount rate_basis fee choice payable charity status not_recorded_as_attending "
            "question decision_reason decided_by_id decided_at paid_on payment_reference "
            "created_at status_changed_at",
            rows,
        )
        self.rows.write(Expense, "claim_id kind description amount", expenses)

    def _claim(self, person, choice, role, rates, claimed) -> dict:
        """What one claim holds, worked out as `payments.submit_claim` would."""
        rng = self.rng
        came = [s for s in self.came_by_person.get(person, []) if (person, s) not in claimed]
        kind = rng.choices(["session", "meeting", "hours"], [0.5, 0.2, 0.3])[0]
        session, hours, not_attending = None, None, False
        if kind == "session" and came:
            s = rng.choice(came)
            claimed.add((person, s))
            session = self.session_ids[s]
            day = self.session_start[s].date()
            length = (self.session_end[s] - self.session_start[s]).total_seconds() / 3600
            hours = Decimal(str(length)).quantize(Decimal("0.01"))
            activity = Activity.SESSION
        else:
            day = self.when(self.now - 730 * DAY, self.now - DAY).date()
            if kind == "session":
                kind = "meeting"
            if kind == "meeting":
                activity = Activity.MEETING
            else:
                activity = Activity.ROLE if role and rng.random() < 0.5 else Activity.PREPARATION
                hours = Decimal(rng.choice(["1.00", "1.50", "2.00", "3.00"]))
        if activity == Activity.ROLE and day < role.starts_on:
            activity = Activity.PREPARATION
        if activity == Activity.ROLE:
            rate, basis, amount = None, Basis.HOUR, role.hourly_rate
        else:
            rate = [r for r in rates[activity] if r.valid_from <= day][-1]
            basis, amount = rate.basis, rate.amount
            if basis != Basis.HOUR and kind != "session":
                hours = None
        fee = payments.fee_for(basis=basis, amount=amount, hours=hours)
        return {
            "kind": kind,
            "session": session,
            "activity": activity,
            "date": day,
            "hours": hours,
            "rate": rate.pk if rate else None,
            "amount": amount,
            "basis": basis,
            "fee": fee,
            "choice": choice,
            "not_attending": not_attending,
            "role": role.pk if activity == Activity.ROLE else None,
        }
