"""Ideas with their decisions and merges, supports, comments and updates."""

from datetime import datetime

from improvement.models import (
    Comment,
    CommentReport,
    Decision,
    Idea,
    IdeaEvent,
    Support,
    Theme,
    Update,
)
from improvement.scale.base import (
    BUSY,
    DAY,
    DOINGS,
    FIRST,
    IDEA_STATUSES,
    SAYINGS,
    THEMES,
    THINGS,
    pick,
)


class Ideas:
    # --- ideas --------------------------------------------------------------------------

    def ideas(self) -> None:
        rng, n = self.rng, self.sizes["ideas"]
        c = self.community
        themes = Theme.objects.bulk_create(
            Theme(community=c, name=name, position=i) for i, name in enumerate(THEMES)
        )
        ids = list(self.rows.ids(Idea, n))
        self.idea_ids = ids
        self.idea_status, self.idea_created, self.idea_author = [], [], []
        self.idea_decided: list[datetime | None] = []
        self.idea_session, self.idea_response = [], []
        busy_ideas = set(rng.sample(range(n), min(BUSY["ideas"], n // 20)))
        self.idea_extra: dict[int, set[int]] = {}  # people whose answer or coming it holds
        rows, themed, events, decisions = [], [], [], []
        merged = []
        for i in range(n):
            status = pick(rng, IDEA_STATUSES)
            if status == Idea.Status.MERGED and i < 10:
                status = Idea.Status.NEW  # the first ideas are merge targets
            created = self.when(before=self.now - DAY)
            origin = (
                "online"
                if i in busy_ideas
                else rng.choices(
                    ["online", "session", "survey", "paper"], [0.91, 0.05, 0.02, 0.02]
                )[0]
            )
            author = entered = session = key_point = survey = answer = response = None
            on_behalf, contact_by, contact = "", "", ""
            if origin == "session" and self.key_points:
                key_point, s = rng.choice(self.key_points)
                session, entered = s, 0
                self.idea_extra[i] = set(self.attended.get(s, []))
                created = self.when(self.session_end[s], self.session_end[s] + 20 * DAY)
                on_behalf = "People at the session"
            elif origin == "survey" and self.named_responses:
                response, person, answer = rng.choice(self.named_responses)
                self.idea_extra[i] = {person}
                survey, entered = self.survey_obj.pk, 0
                created = self.when(self.survey_obj.closes_at, self.now - DAY)
            elif origin == "paper":
                entered, on_behalf = 0, f"{rng.choice(FIRST)} at the Firth Park drop-in"
                contact_by = rng.choice(["", "email", "phone", "post"])
                contact = {
                    "email": f"paper-idea{i}@example.net",
                    "phone": "0114 496 0101",
                    "post": "2 Paper Lane, Sheffield",
                }.get(contact_by, "")
            else:
                origin = "online"
                author = self.busy if i in busy_ideas else rng.choice(self.active)
            created = min(created, self.now - DAY)
            self.idea_status.append(status)
            self.idea_created.append(created)
            self.idea_author.append(author)
            self.idea_session.append(session)
            self.idea_response.append(response)
            decided_at, changed = self._decide(i, status, created, decisions, events)
            self.idea_decided.append(decided_at)
            if status == Idea.Status.MERGED:
                merged.append(i)
            rows.append(
                [
                    ids[i],
                    c.pk,
                    f"{rng.choice(DOINGS)} {rng.choice(THINGS)}",
                    f"It would help people like me if we could {rng.choice(THINGS)}. Idea {i + 1}.",
                    origin,
                    self.session_ids[session] if session is not None else None,
                    key_point,
                    survey,
                    answer,
                    response,
                    self.uid(author) if author is not None else None,
                    self.uid(entered) if entered is not None else None,
                    on_behalf,
                    contact_by,
                    contact,
                    status,
                    changed,
                    None,
                    decided_at,
                    created,
                    max(changed, created),
                ]
            )
            for theme in rng.sample(themes, rng.choice((1, 1, 2))):
                themed.append((ids[i], theme.pk))
            events.append(
                (
                    ids[i],
                    IdeaEvent.Kind.CREATED,
                    self.uid(author if author is not None else 0),
                    created,
                    Idea.Status.NEW,
                    None,
                    "",
                )
            )
        self._merge(merged, rows, events)
        self.rows.write(
            Idea,
            "id community_id title description source session_id key_point_id survey_id "
            "survey_answer_id survey_response_id author_id entered_by_id on_behalf_of contact_by "
            "contact_details status status_changed_at merged_into_id decided_at created_at "
            "updated_at",
            rows,
        )
        self.rows.write(Idea.themes.through, ["idea_id", "theme_id"], themed)
        self.rows.write(Decision, "idea_id outcome reason decided_by_id decided_at", decisions)
        self.events = events
        self.busy_ideas = sum(1 for author in self.idea_author if author == self.busy)

    def _decide(self, i, status, created, decisions, events) -> tuple[datetime | None, datetime]:
        """The decisions an idea with this status had, and when its status last changed."""
        rng, coordinator = self.rng, self.uid(0)
        outcome = {
            Idea.Status.PRIORITISED: rng.choice(["adopt", "adopt", "adapt"]),
            Idea.Status.IN_PROGRESS: "adopt",
            Idea.Status.DONE: "adopt",
            Idea.Status.NOT_TAKEN_FORWARD: "not_taken_forward",
            Idea.Status.CONSIDERING: "not_now" if rng.random() < 0.5 else None,
        }.get(status)
        if outcome is None:
            changed = created if status == Idea.Status.NEW else self.when(created)
            if status == Idea.Status.CONSIDERING:
                events.append(
                    (
                        self.idea_ids[i],
                        IdeaEvent.Kind.STATUS,
                        coordinator,
                        changed,
                        status,
                        None,
                        "",
                    )
                )
            return None, changed
        decided = self.when(created, min(created + 200 * DAY, self.now))
        reason = {
            "adopt": "We agree, and the clinic team has the time to do it.",
            "adapt": "We will do part of this, within the budget we have.",
            "not_now": "A good idea; we will look at it again next year.",
            "not_taken_forward": "The hospital cannot change this, but we have passed it on.",
        }[outcome]
        if outcome != "not_now" and rng.random() < 0.1:
            earlier = self.when(created, decided)
            decisions.append((self.idea_ids[i], "not_now", reason, coordinator, earlier))
        decisions.append((self.idea_ids[i], outcome, reason, coordinator, decided))
        label = dict(Decision.Outcome.choices)[outcome]
        shown = Idea.Status.PRIORITISED if outcome in ("adopt", "adapt") else status
        events.append(
            (
                self.idea_ids[i],
                IdeaEvent.Kind.DECIDED,
                coordinator,
                decided,
                shown,
                None,
                f"{label}: {reason}",
            )
        )
        changed = decided
        if status in (Idea.Status.IN_PROGRESS, Idea.Status.DONE):
            for step in [Idea.Status.IN_PROGRESS, Idea.Status.DONE][
                : 1 if status == Idea.Status.IN_PROGRESS else 2
            ]:
                changed = self.when(changed, min(changed + 60 * DAY, self.now))
                events.append(
                    (self.idea_ids[i], IdeaEvent.Kind.STATUS, coordinator, changed, step, None, "")
                )
        return decided, changed

    def _merge(self, merged, rows, events) -> None:
        """Point each merged idea at an earlier idea that stands on its own."""
        rng, coordinator = self.rng, self.uid(0)
        standing = [i for i, s in enumerate(self.idea_status) if s != Idea.Status.MERGED]
        self.merged_into = {}
        self.merged_from: dict[int, list[int]] = {}
        for i in merged:
            target = rng.choice(standing)
            at = self.when(max(self.idea_created[i], self.idea_created[target]))
            self.merged_into[i] = target
            self.merged_from.setdefault(target, []).append(i)
            rows[i][17] = self.idea_ids[target]
            rows[i][16] = at
            rows[i][20] = at
            events.append(
                (
                    self.idea_ids[i],
                    IdeaEvent.Kind.MERGED_INTO,
                    coordinator,
                    at,
                    Idea.Status.MERGED,
                    self.idea_ids[target],
                    "The same idea.",
                )
            )
            events.append(
                (
                    self.idea_ids[target],
                    IdeaEvent.Kind.MERGED_FROM,
                    coordinator,
                    at,
                    "",
                    self.idea_ids[i],
                    "The same idea.",
                )
            )
        self.standing = standing

    # --- supports and comments ----------------------------------------------------------

    def supports_and_comments(self) -> None:
        rng = self.rng
        standing = self.standing
        weights = [min(rng.paretovariate(1.2), 400.0) for _ in standing]
        self.contributors: dict[int, set[int]] = {}  # idea index -> people
        for i, author in enumerate(self.idea_author):
            if author is not None:
                self.contributors.setdefault(self.merged_into.get(i, i), set()).add(author)
        for i, people in self.idea_extra.items():
            self.contributors.setdefault(self.merged_into.get(i, i), set()).update(people)
        wanted = self.sizes["supports"]
        busy_count = min(BUSY["supports"], wanted // 20, len(standing))
        picks = [(i, self.busy) for i in rng.sample(standing, busy_count)]
        seen, rows = set(), []
        for _round in range(20):  # popular ideas draw repeats: draw again for what is missing
            for idea, person in picks:
                if len(rows) >= wanted or (idea, person) in seen:
                    continue
                seen.add((idea, person))
                self.contributors.setdefault(idea, set()).add(person)
                rows.append(
                    (self.idea_ids[idea], self.uid(person), self.when(self.idea_created[idea]))
                )
            more = int((wanted - len(rows)) * 1.1) + 10
            if len(rows) >= wanted or not standing:
                break
            picks = zip(
                rng.choices(standing, weights, k=more),
                rng.choices(self.active, k=more),
                strict=True,
            )
        self.rows.write(Support, ["idea_id", "user_id", "created_at"], rows)
        self.busy_supports = sum(1 for _idea, person in seen if person == self.busy)
        self._comments(weights)

    def _comments(self, weights) -> None:
        rng, wanted = self.rng, self.sizes["comments"]
        standing = self.standing
        moved_from = self.merged_from
        busy_count = min(BUSY["comments"], wanted // 10)
        busy_ideas = rng.sample(standing, min(len(standing), max(1, busy_count * 5 // 7)))
        picks = [(rng.choice(busy_ideas), self.busy) for _ in range(busy_count)]
        picks += zip(
            rng.choices(standing, weights, k=wanted - busy_count),
            rng.choices(self.active, k=wanted - busy_count),
            strict=True,
        )
        ids = list(self.rows.ids(Comment, len(picks)))
        rows = []
        for n, (idea, person) in enumerate(picks):
            at = self.when(self.idea_created[idea])
            hidden = rng.random() < 0.01 and person != self.busy
            source = None
            if idea in moved_from and rng.random() < 0.3:
                source = self.idea_ids[rng.choice(moved_from[idea])]
            self.contributors.setdefault(idea, set()).add(person)
            rows.append(
                (
                    ids[n],
                    self.idea_ids[idea],
                    source,
                    self.uid(person),
                    rng.choice(SAYINGS),
                    at,
                    at if hidden else None,
                    self.uid(0) if hidden else None,
                    "It named a member of staff." if hidden else "",
                )
            )
        self.rows.write(
            Comment,
            "id idea_id moved_from_id author_id text created_at hidden_at hidden_by_id "
            "hidden_reason",
            rows,
        )
        reports = {}
        for n in rng.sample(range(len(ids)), min(40, len(ids))):
            reporter = rng.choice(self.active)
            reports[(ids[n], reporter)] = (
                ids[n],
                self.uid(reporter),
                "This is unkind.",
                rows[n][5],
            )
        self.rows.write(CommentReport, "comment_id reporter_id reason created_at", reports.values())
        self.busy_comments = sum(1 for _idea, person in picks if person == self.busy)
        self.busy_commented = len({idea for idea, person in picks if person == self.busy})

    # --- updates ------------------------------------------------------------------------

    def updates(self) -> None:
        rng, n = self.rng, self.sizes["updates"]
        decided = [i for i in self.standing if self.idea_decided[i] is not None]
        if not decided:
            decided = list(self.standing)
        ids = list(self.rows.ids(Update, n))
        rows, idea_links, session_links, survey_links = [], [], [], []
        events = self.events
        for u in range(n):
            ideas = rng.sample(decided, min(len(decided), rng.choice((1, 1, 2, 2, 3, 4, 5, 6))))
            sessions = []
            if self.attended and rng.random() < 0.2:
                sessions = [rng.choice(list(self.attended))]
            surveys = [self.survey_obj.pk] if u % 500 == 7 else []
            ready = [self.idea_decided[i] or self.idea_created[i] for i in ideas]
            ready += [self.session_end[s] for s in sessions]
            ready += [self.survey_obj.closes_at for _ in surveys]
            earliest = max(ready, default=self.start)
            published = rng.random() < 0.95
            at = self.when(earliest, min(earliest + 60 * DAY, self.now)) if published else None
            told = set()
            for i in ideas:
                told |= self.contributors.get(i, set())
            for s in sessions:
                told |= set(self.attended.get(s, []))
            if surveys:
                told |= set(self.participants)
            rows.append(
                (
                    ids[u],
                    self.community.pk,
                    f"You said, we did: {rng.choice(THINGS)}",
                    "Many of you told us this was hard.",
                    "We changed how the clinic works.",
                    "We will check in three months.",
                    "published" if published else "draft",
                    self.uid(0),
                    at or self.now,
                    at or self.now,
                    at,
                    self.uid(0) if published else None,
                    len(told) if published else 0,
                )
            )
            idea_links += [(ids[u], self.idea_ids[i]) for i in ideas]
            session_links += [(ids[u], self.session_ids[s]) for s in sessions]
            survey_links += [(ids[u], s) for s in surveys]
            if published:
                events += [
                    (
                        self.idea_ids[i],
                        IdeaEvent.Kind.UPDATED,
                        self.uid(0),
                        at,
                        self.idea_status[i],
                        None,
                        rows[-1][2],
                    )
                    for i in ideas
                ]
        self.rows.write(
            Update,
            "id community_id title what_we_heard what_we_did what_next status created_by_id "
            "created_at updated_at published_at published_by_id told_count",
            rows,
        )
        self.rows.write(Update.ideas.through, ["update_id", "idea_id"], idea_links)
        self.rows.write(Update.sessions.through, ["update_id", "session_id"], session_links)
        self.rows.write(Update.surveys.through, ["update_id", "survey_id"], survey_links)
        self.rows.write(
            IdeaEvent,
            "idea_id kind actor_id at status other_idea_id note",
            events,
        )
