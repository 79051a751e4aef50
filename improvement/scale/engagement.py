"""Sessions with registrations and attendance, and a survey with its answers."""

from datetime import timedelta

from engagement.models import (
    Answer,
    Choice,
    KeyPoint,
    Participation,
    Question,
    Registration,
    Response,
    Session,
    Survey,
    Venue,
)
from improvement.scale.base import BUSY, DAY, DOINGS, THINGS, pick

QUESTIONS = [
    ("How did you last book an appointment?", "single",
     ["Phone", "Online", "Letter", "In person", "Someone booked for me"]),
    ("What would help most?", "multiple",
     ["Evening clinics", "Text reminders", "A named nurse", "Plain English letters", "Parking",
      "Interpreters"]),
    ("How good was your last appointment?", "rating", []),
    ("Did you get your letter in time?", "yes_no", []),
    ("What one thing should we change?", "long_text", []),
]  # fmt: skip


class Engagement:
    # --- sessions -----------------------------------------------------------------------

    def sessions(self) -> None:
        rng, n = self.rng, self.sizes["sessions"]
        c = self.community
        venues = [
            Venue(
                community=c,
                name=f"Venue {i + 1}",
                kind=kind,
                address=f"{i + 1} High Street",
                step_free=i % 2 == 0,
                hearing_loop=i % 3 == 0,
            )
            for i, kind in enumerate(
                ["community_centre", "library", "faith", "health", "online"] * 2
            )
        ]
        Venue.objects.bulk_create(venues)
        ids = list(self.rows.ids(Session, n))
        self.session_ids = ids
        self.session_start, self.session_end, self.session_status = [], [], []
        self.session_capacity = []
        rows = []
        for i in range(n):
            upcoming = rng.random() < 0.15
            if upcoming:
                starts = self.now + timedelta(days=rng.randint(1, 180), hours=rng.randint(9, 18))
                status = pick(rng, [("published", 0.9), ("draft", 0.07), ("cancelled", 0.03)])
            else:
                starts = self.when(before=self.now - DAY)
                status = pick(rng, [("completed", 0.9), ("cancelled", 0.05), ("published", 0.05)])
            ends = starts + timedelta(minutes=rng.choice((90, 120, 150, 180)))
            drop_in = rng.random() < 0.1
            capacity = None if drop_in else rng.randint(20, 80)
            venue = rng.choice(venues)
            walk_ins = rng.randint(0, 12) if status == "completed" else 0
            seen = sorted(rng.sample(["patient", "carer", "staff", "other"], min(walk_ins, 2)))
            rows.append(
                (
                    ids[i],
                    c.pk,
                    f"{rng.choice(['Listening', 'Co-design', 'Drop-in', 'Focus'])} session {i + 1}",
                    "Come and tell us what matters to you.",
                    rng.choice(Session.Kind.values),
                    starts,
                    ends,
                    venue.pk,
                    "https://meet.example.org/scale" if venue.kind == "online" else "",
                    self.partner.pk if i % 7 == 0 else None,
                    capacity,
                    not drop_in,
                    i % 4 == 0,
                    True,
                    i % 5 == 0,
                    False,
                    "English",
                    status,
                    walk_ins,
                    seen,
                    "",
                    starts - 30 * DAY,
                    min(ends, self.now),
                )
            )
            self.session_start.append(starts)
            self.session_end.append(ends)
            self.session_status.append(status)
            self.session_capacity.append(capacity if not drop_in else 0)
        self.rows.write(
            Session,
            "id community_id title description kind starts_at ends_at venue_id online_link "
            "host_id capacity registration_required offers_payment offers_refreshments "
            "offers_travel offers_childcare languages status walk_in_count walk_in_perspectives "
            "attendance_notes created_at updated_at",
            rows,
        )
        self.past_sessions = [i for i in range(n) if self.session_status[i] == "completed"]
        self._key_points()
        self._registrations()

    def _key_points(self) -> None:
        ids = list(self.rows.ids(KeyPoint, 2 * len(self.past_sessions)))
        self.key_points = []  # (key point id, session index)
        rows = []
        for n, i in enumerate(self.past_sessions):
            for k in range(2):
                kp = ids[2 * n + k]
                self.key_points.append((kp, i))
                rows.append(
                    (
                        kp,
                        self.session_ids[i],
                        f"People said {THINGS[(i + k) % 14]} would help.",
                        self.uid(0),
                        self.session_end[i],
                    )
                )
        self.rows.write(KeyPoint, "id session_id text created_by_id created_at", rows)

    def _registrations(self) -> None:
        rng, wanted = self.rng, self.sizes["registrations"]
        open_sessions = [
            i
            for i, status in enumerate(self.session_status)
            if status in ("published", "completed", "cancelled") and self.session_capacity[i]
        ]
        self.attended: dict[int, list[int]] = {}  # session index -> people who came
        self.came_by_person: dict[int, list[int]] = {}
        rows, seen, taken = [], set(), dict.fromkeys(open_sessions, 0)
        came_to = [i for i in self.past_sessions if self.session_capacity[i]]
        busy_count = min(BUSY["registrations"], wanted // 10, len(came_to))
        busy_sessions = rng.sample(came_to, busy_count)
        picks = iter([(i, self.busy) for i in busy_sessions])
        attempts = 0
        while len(rows) < wanted and open_sessions and attempts < wanted * 5:
            attempts += 1
            session, person = next(picks, None) or (
                rng.choice(open_sessions),
                rng.choice(self.active),
            )
            if (session, person) in seen:
                continue
            status = self.session_status[session]
            full = taken[session] >= self.session_capacity[session]
            past = self.session_start[session] < self.now
            if status == "cancelled":
                state = "cancelled"
            elif full and past:
                continue
            elif full:
                state = "waiting"
            else:
                state = "cancelled" if rng.random() < 0.05 and person != self.busy else "registered"
            seen.add((session, person))
            came = None
            if state == "registered":
                taken[session] += 1
                if status == "completed":
                    came = person == self.busy or rng.random() < 0.8
                    if came:
                        self.attended.setdefault(session, []).append(person)
                        self.came_by_person.setdefault(person, []).append(session)
            queued = self.when(
                self.session_start[session] - 30 * DAY, min(self.session_start[session], self.now)
            )
            rows.append(
                (self.session_ids[session], self.uid(person), state, [], queued, queued, came)
            )
        self.rows.write(
            Registration,
            "session_id user_id status access_requirements created_at queued_at attended",
            rows,
        )
        self.busy_registrations = sum(1 for s, p in seen if p == self.busy)

    # --- the survey ---------------------------------------------------------------------

    def _questions(self, survey) -> tuple[list, dict[int, list[int]]]:
        """The survey's questions, and the choices' ids of those with choices."""
        questions = Question.objects.bulk_create(
            Question(survey=survey, text=text, kind=kind, position=i, required=kind != "long_text")
            for i, (text, kind, _options) in enumerate(QUESTIONS)
        )
        choices = {}
        for question, (_text, _kind, options) in zip(questions, QUESTIONS, strict=True):
            if options:
                made = Choice.objects.bulk_create(
                    Choice(question=question, text=text, position=i)
                    for i, text in enumerate(options)
                )
                choices[question.pk] = [choice.pk for choice in made]
        return questions, choices

    def _answer(self, question, choices, answer_id, picked) -> tuple[str, int | None]:
        """One answer's text and number; chosen choices are added to `picked`."""
        rng = self.rng
        if question.kind == "single":
            picked.append((answer_id, rng.choice(choices)))
        elif question.kind == "multiple":
            picked += [(answer_id, choice) for choice in rng.sample(choices, rng.randint(1, 3))]
        elif question.kind == "rating":
            return "", rng.randint(1, 5)
        elif question.kind == "yes_no":
            return rng.choice(["yes", "yes", "no"]), None
        elif question.kind == "long_text":
            return f"Please {rng.choice(DOINGS).lower()} {rng.choice(THINGS)}.", None
        return "", None

    def survey(self) -> None:
        rng, n = self.rng, self.sizes["responses"]
        c = self.community
        opens, closes = self.now - 400 * DAY, self.now - 30 * DAY
        survey = Survey.objects.create(
            community=c,
            title="Your experience of the IBD service",
            published=True,
            introduction="Ten minutes. Tell us what works and what does not.",
            opens_at=opens,
            closes_at=closes,
            allow_anonymous=True,
        )
        Survey.objects.create(
            community=c,
            title="Evening clinics: would you come?",
            published=True,
            opens_at=self.now - 5 * DAY,
            closes_at=self.now + 20 * DAY,
        )
        self.survey_obj = survey
        questions, choices = self._questions(survey)
        people = rng.sample(self.active, min(n, len(self.active)))
        if self.busy not in people and people:
            people[0] = self.busy
        ids = list(self.rows.ids(Response, n))
        answer_ids = iter(self.rows.ids(Answer, 5 * n))
        responses, participations, answers, picked = [], [], [], []
        self.named_responses = []  # (response id, person, long answer id)
        self.participants = []
        for r in range(n):
            kind = "paper" if r % 20 == 19 else ("anonymous" if r % 5 == 4 else "named")
            person = people[r] if r < len(people) and kind != "paper" else None
            if person is None and kind != "paper":
                kind = "paper"
            made = self.when(opens, closes)
            paper = kind == "paper"
            contact = rng.choice(["", "email", "phone", "post"]) if paper else ""
            responses.append(
                (
                    ids[r],
                    survey.pk,
                    self.uid(person) if kind == "named" else None,
                    made,
                    made,
                    self.uid(0) if paper else None,
                    f"Paper form {r}" if paper else "",
                    contact,
                    {
                        "email": f"paper{r}@example.net",
                        "phone": "0114 496 0000",
                        "post": "1 Paper Lane, Sheffield",
                    }.get(contact, ""),
                )
            )
            if person is not None:
                participations.append((survey.pk, self.uid(person)))
                self.participants.append(person)
            long_answer = None
            for question in questions:
                if question.kind == "long_text" and rng.random() < 0.4:
                    continue
                aid = next(answer_ids)
                text, number = self._answer(question, choices.get(question.pk), aid, picked)
                if question.kind == "long_text":
                    long_answer = aid
                answers.append((aid, ids[r], question.pk, text, number))
            if kind == "named" and long_answer:
                self.named_responses.append((ids[r], person, long_answer))
        self.rows.write(
            Response,
            "id survey_id user_id created_at updated_at entered_by_id on_behalf_of contact_by "
            "contact_details",
            responses,
        )
        self.rows.write(Participation, ["survey_id", "user_id"], participations)
        self.rows.write(Answer, "id response_id question_id text number", answers)
        self.rows.write(Answer.choices.through, ["answer_id", "choice_id"], picked)
