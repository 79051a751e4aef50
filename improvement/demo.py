"""Demo ideas for IBD Together: what people said at the listening session, online and on
paper, how the community and the IBD team scored them, and what was decided.

Everything goes through `improvement.services`, so each idea's history reads as it would on
a real site. Running the demo again finds what is there (ideas by title, the round by its
title, decisions by idea) instead of adding copies. The times are moved into the past
as it is written, so the demo reads like a few weeks of activity.

Like the other demos, this one sends no notifications: demo people are invited to score
while the round is being set up (nobody is told then), and the round is opened with the
round's own status change rather than `services.open_round`, which would invite them.
"""

from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone

from communities.models import Community, Membership, MembershipPerspective
from engagement.models import Answer, KeyPoint, Session
from improvement import services
from improvement.models import (
    Comment,
    Decision,
    Idea,
    IdeaEvent,
    PrioritisationRound,
    Score,
    Scorer,
    Support,
    Theme,
)
from improvement.prioritisation import round_results
from members.models import User

THEMES = [
    ("Access", "Getting appointments, tests, medicines and help when you need them."),
    ("Communication", "Letters, results, phone calls and information you can understand."),
    ("Patient-centred care", "Care that fits your life, and treats you as a whole person."),
    ("Support between appointments", "Help with flares, worries and daily life in between."),
]

# Demo people by a short name: the demo logins and the crowd from communities.demo.
PEOPLE = {
    "cora": "coordinator@example.org",
    "parveen": "partner@example.org",
    "michael": "member@example.org",
    "adaeze": "adaeze.okafor@example.org",
    "bilal": "bilal.hussain@example.org",
    "ceri": "ceri.jones@example.org",
    "dorota": "dorota.nowak@example.org",
    "errol": "errol.campbell@example.org",
    "fatima": "fatima.begum@example.org",
    "gareth": "gareth.lewis@example.org",
    "hannah": "hannah.price@example.org",
}
SUPPORTERS = [
    "michael", "adaeze", "bilal", "errol", "hannah", "parveen", "ceri", "dorota", "fatima",
    "gareth",
]  # fmt: skip

SESSION_TITLE = "First listening session"
SURVEY_TITLE = "Your clinic letters"

# More of what was heard at the listening session, beside the two points engagement.demo
# records there.
MORE_KEY_POINTS = [
    "Several people waited over a week for the helpline to call back during a flare.",
    "Young people who moved from the children's service said they felt dropped.",
    "People worry about finding a toilet on the way to clinic and in town.",
]

# Each idea: key, title, description, themes, where it came from, days ago, supporters.
# Where it came from is one of:
#   ("key_point", text)        a key point from the listening session, typed in by Cora
#   ("session", on_behalf_of)  said at the listening session, typed in by Cora
#   ("survey", answer text)    an answer to the clinic letters survey
#   ("online", person)         posted by a member
#   ("paper", on_behalf dict)  from a paper form, typed in by Parveen
IDEAS = [
    (
        "letters",
        "Write clinic letters in plain English",
        "Letters from clinic are full of medical words and abbreviations. Write them to the "
        "patient, in plain English, with a short 'what this means for you' at the top, and "
        "send the GP a copy.",
        ["Communication"],
        ("key_point", "Clinic letters use words people do not understand."),
        None,
        8,
    ),
    (
        "rebook",
        "Let people change an appointment by text or online",
        "It can take days to get through on the phone just to move an appointment. Let us "
        "reply to the reminder text, or use a simple web page, to ask for a new time.",
        ["Access"],
        ("key_point", "It is hard to get through on the phone to change a time."),
        None,
        7,
    ),
    (
        "helpline",
        "Helpline calls returned within one working day",
        "When you are in a flare, waiting a week for a call back is frightening and often ends "
        "in A&E. Promise a call back within one working day, and say on the answerphone "
        "message when to expect it.",
        ["Access", "Support between appointments"],
        ("key_point", MORE_KEY_POINTS[0]),
        None,
        6,
    ),
    (
        "transition",
        "A proper handover from children's to adult IBD care",
        "Moving to the adult clinic at 16 or 17 felt like starting again with strangers. Have "
        "a joint clinic with both teams, meet the adult nurse first, and let young people "
        "bring a parent if they want to.",
        ["Patient-centred care"],
        ("key_point", MORE_KEY_POINTS[1]),
        None,
        4,
    ),
    (
        "toilet-card",
        "Give everyone a toilet access card at clinic",
        "Many of us plan every trip around toilets. A card that asks shops and cafés to let "
        "you use their staff toilet, handed out at clinic with a word about how to use it, "
        "would make going out less of a worry.",
        ["Access", "Patient-centred care"],
        ("key_point", MORE_KEY_POINTS[2]),
        None,
        7,
    ),
    (
        "evening-clinics",
        "Evening or Saturday clinics for people who work",
        "Taking half a day off for a 10-minute review is hard to explain to an employer. A "
        "clinic one evening a week, or on a Saturday morning, would help people who work or "
        "look after children.",
        ["Access"],
        ("session", "A patient at the listening session"),
        None,
        5,
    ),
    (
        "named-nurse",
        "A named IBD nurse for each patient",
        "Every time I ring I explain my whole history again. If I had a named nurse who knew "
        "me, I would feel safer and the calls would be shorter.",
        ["Patient-centred care", "Support between appointments"],
        ("session", "A carer at the listening session"),
        None,
        6,
    ),
    (
        "waiting-times",
        "Tell us how long the wait is when we arrive",
        "Clinics often run an hour late. Put the expected wait on the board or tell us at the "
        "desk, so we can go to the toilet or get a drink without worrying about missing our "
        "name.",
        ["Communication"],
        ("session", "Two people at the listening session"),
        None,
        3,
    ),
    (
        "quiet-room",
        "A quiet room near the toilets in clinic",
        "Somewhere private near the toilets to sit, change or recover after an accident, "
        "instead of the main waiting room.",
        ["Access", "Patient-centred care"],
        ("session", "A patient at the listening session"),
        None,
        2,
    ),
    (
        "results-first",
        "Results explained before the next appointment",
        "We wait weeks for scan and colonoscopy results and then hear them for the first time "
        "in a rushed appointment. A short call or message when results are in would help us "
        "come ready with questions.",
        ["Communication"],
        ("session", "A patient at the listening session"),
        None,
        4,
    ),
    (
        "whole-person",
        "Ask about fatigue and mental health at every review",
        "Tiredness, anxiety and low mood are part of living with IBD, but reviews only cover "
        "bloods and medicines. Ask about them every time and know where to refer us.",
        ["Patient-centred care"],
        ("session", "A parent at the listening session"),
        None,
        5,
    ),
    (
        "explain-results",
        "Say what a test result means, not just the number",
        "From the clinic letters survey: 'I could not tell what the result meant.' Letters "
        "should say whether a result is good, bad or no change, and what happens next.",
        ["Communication"],
        ("survey", "I could not tell what the result meant."),
        5,
        3,
    ),
    (
        "text-reminders",
        "Text reminders the day before appointments",
        "A text the day before, with the time, the place and a number to ring if you cannot "
        "come. It would cut missed appointments and free slots for others.",
        ["Access", "Communication"],
        ("online", "michael"),
        12,
        5,
    ),
    (
        "local-bloods",
        "Blood forms sent in advance so we can go to a local clinic",
        "Send the blood test form with the appointment letter, so we can have bloods at the "
        "GP or a local clinic the week before, and the results are ready on the day.",
        ["Access"],
        ("online", "adaeze"),
        11,
        4,
    ),
    (
        "video",
        "Video or phone reviews when I am well",
        "When I am well, a 10-minute video or phone call would do. Keep face-to-face "
        "appointments for when something has changed, or when the patient asks for one.",
        ["Access"],
        ("online", "hannah"),
        10,
        6,
    ),
    (
        "biologics-guide",
        "A plain-English guide to starting biologics",
        "Starting a biologic was scary and the leaflets were written for doctors. A short "
        "guide, or a video, from patients who have been through it would help.",
        ["Communication", "Support between appointments"],
        ("online", "errol"),
        9,
        3,
    ),
    (
        "parents-of-teens",
        "Support for parents of teenagers with Crohn's",
        "Parents are often the ones ringing the helpline and sorting school letters. A group "
        "or an evening session for parents would mean we are not working it out alone.",
        ["Support between appointments"],
        ("online", "bilal"),
        9,
        3,
    ),
    (
        "app-letters",
        "Letters and results in the NHS App",
        "Letters arrive after the next appointment or not at all. Putting letters and results "
        "in the NHS App would mean we see them as soon as the GP does.",
        ["Communication"],
        ("online", "michael"),
        8,
        4,
    ),
    (
        "flare-plan",
        "A written flare plan agreed with each patient",
        "A one-page plan, agreed at clinic, saying what to do in the first days of a flare: "
        "which medicines to start, when to ring us, and when to go to A&E.",
        ["Support between appointments", "Patient-centred care"],
        ("online", "ceri"),
        13,
        5,
    ),
    (
        "parking",
        "Free parking on infusion days",
        "Infusions take most of a day and parking costs over £10 each time. Free parking, or "
        "a refund, for people coming for infusions.",
        ["Access"],
        ("online", "adaeze"),
        7,
        4,
    ),
    (
        "peer-support",
        "A peer support group run by patients",
        "A monthly meet-up, in person and online, where people with IBD can talk to each "
        "other. Newly diagnosed people especially would benefit.",
        ["Support between appointments"],
        ("online", "errol"),
        7,
        4,
    ),
    (
        "dietitian",
        "See a dietitian within a month of diagnosis",
        "Everyone asks what they should eat and gets different answers online. An early "
        "appointment with a dietitian who knows IBD would save a lot of worry.",
        ["Patient-centred care"],
        ("online", "hannah"),
        6,
        3,
    ),
    (
        "one-number",
        "One phone number for the whole IBD team",
        "Patients have numbers for the helpline, the secretaries, the infusion unit and "
        "pharmacy. One number with simple options would mean fewer calls going to the wrong "
        "place.",
        ["Access", "Communication"],
        ("online", "dorota"),
        6,
        3,
    ),
    (
        "languages",
        "Information in other languages and in easy read",
        "Key leaflets and the flare advice should be available in the main community "
        "languages of Sheffield and in easy read, and clinic should book interpreters without "
        "being asked.",
        ["Communication"],
        ("online", "fatima"),
        5,
        2,
    ),
    (
        "work-letter",
        "A letter template to give to employers",
        "Explaining IBD at work is hard. A standard letter from the team about reasonable "
        "adjustments, like toilet breaks and working from home in a flare, would help.",
        ["Patient-centred care"],
        ("online", "hannah"),
        4,
        3,
    ),
    (
        "cant-wait",
        "Hand out 'Can't Wait' cards in clinic",
        "The charity card that helps you get access to a toilet is great, but most people I "
        "meet have never heard of it. Could clinic give them out?",
        ["Access"],
        ("online", "bilal"),
        3,
        3,
    ),
    (
        "home-delivery",
        "Home delivery of medicines set up before leaving hospital",
        "After a hospital stay, sorting out home delivery of injections took weeks. Set it up "
        "before discharge, so there is no gap.",
        ["Access", "Support between appointments"],
        ("online", "errol"),
        2,
        2,
    ),
    (
        "night-shifts",
        "Call back at times that suit people who work nights",
        "I work nights, so the helpline rings me when I am asleep. Let us say what time suits "
        "us to be called back.",
        ["Access", "Support between appointments"],
        (
            "paper",
            {
                "on_behalf_of": "Mr R., at the Firth Park drop-in",
                "contact_by": "phone",
                "contact_details": "0114 496 0123, after 3pm",
            },
        ),
        10,
        2,
    ),
    (
        "large-print",
        "Letters in large print",
        "I cannot read the small print on clinic letters. Please send mine in large print; "
        "there must be others who need the same.",
        ["Communication"],
        (
            "paper",
            {
                "on_behalf_of": "Mrs K., who does not use the internet",
                "contact_by": "post",
                "contact_details": "14 Example Road, Sheffield S5 0ZZ",
            },
        ),
        9,
        2,
    ),
    (
        "private-news",
        "Somewhere private to hear bad news",
        "My son was told he needed surgery in a corridor. There should be a private room for "
        "conversations like that, and time afterwards to ask questions.",
        ["Patient-centred care"],
        (
            "paper",
            {
                "on_behalf_of": "A mother at the Firth Park drop-in",
                "contact_by": "email",
                "contact_details": "a.parent@example.org",
            },
        ),
        9,
        3,
    ),
    (
        "transport",
        "Transport to clinic for people in the north of the city",
        "Two buses each way with IBD is a big ask. Hospital transport, or help with taxi "
        "fares, for people who cannot easily get to clinic.",
        ["Access"],
        ("paper", {"on_behalf_of": "Members of the women's group at the community centre"}),
        8,
        2,
    ),
]

COMMENTS = [
    ("letters", "michael", "My last letter said 'TI inflamed, CRP 45'. I had to look it all up."),
    ("letters", "ceri", "We are happy to try a new template. Could patients help us write it?"),
    ("letters", "hannah", "Yes please. And send it to me, not just to my GP."),
    ("toilet-card", "errol", "This would change my life. I avoid going into town because of it."),
    ("toilet-card", "dorota", "Worth checking what the charity already offers before we print "
     "our own."),
    ("evening-clinics", "adaeze", "Even one evening a month would help."),
    ("evening-clinics", "ceri", "Staffing is the hard part, but video reviews after 5pm might "
     "be possible."),
    ("helpline", "bilal", "Last time we waited eight days and ended up in A&E."),
    ("flare-plan", "michael", "I would like this on paper and in the app."),
    ("cant-wait", "hannah", "I only found out about the card from another patient."),
]  # fmt: skip

# The duplicate, merged into the idea it repeats.
MERGE = ("cant-wait", "toilet-card", "Same idea: a card for toilet access, given out at clinic.")

# Shortlisted before the round; the round scores these.
ROUND_TITLE = "Autumn priorities: what should we do first?"
ROUND_DESCRIPTION = (
    "Score each idea from 1 (low) to 5 (high) on each criterion. Patients and carers, and "
    "the IBD team, score separately, so we can all see where we agree and where we do not."
)
# (impact, reach and fairness, feasibility): what the community and the professionals gave
# each idea on average. Some show real disagreement: the toilet card and evening clinics.
ROUND_SCORES = {
    "letters": ((5, 5, 4), (4, 5, 5)),
    "rebook": ((4, 5, 3), (3, 4, 4)),
    "helpline": ((5, 4, 3), (4, 3, 2)),
    "transition": ((5, 3, 3), (4, 2, 3)),
    "toilet-card": ((5, 4, 5), (2, 3, 5)),
    "evening-clinics": ((5, 4, 3), (2, 2, 1)),
    "named-nurse": ((5, 5, 2), (3, 4, 1)),
    "flare-plan": ((3, 3, 4), (5, 4, 4)),
}
# Who scores: patients, carers and a voluntary group as the community; a nurse, staff, a
# researcher and the improvement lead as professionals.
SCORERS = ["michael", "adaeze", "bilal", "errol", "hannah", "parveen", "ceri", "dorota",
           "fatima", "cora"]  # fmt: skip
# How far each scorer strays from the average: people differ.
SPREAD = [0, 1, 0, -1, 0, -1, 1]
CHOSEN = 3

DECISIONS = [
    (
        "letters",
        Decision.Outcome.ADOPT,
        "We will write every clinic letter to the patient in plain English, starting with "
        "'what this means for you', and copy it to the GP. Patients from the clinic letters "
        "workshop are helping us write the new template.",
    ),
    (
        "toilet-card",
        Decision.Outcome.ADAPT,
        "Rather than print a card of our own, we will give every patient the charity's 'Can't "
        "Wait' card at clinic, and tell them how to get a key for locked accessible toilets. "
        "It does the same job and is already known to shops.",
    ),
    (
        "video",
        Decision.Outcome.ADAPT,
        "We will offer a video or phone call for routine reviews when you are well, if you "
        "would like one. First appointments, and reviews after a change in treatment, stay "
        "face to face.",
    ),
    (
        "evening-clinics",
        Decision.Outcome.NOT_NOW,
        "We agree this matters, and it scored highly with patients. We do not have the staff "
        "to run evening clinics this year. We will look again when the new consultant starts "
        "in the spring, and try video reviews after 5pm in the meantime.",
    ),
    (
        "parking",
        Decision.Outcome.NOT_TAKEN_FORWARD,
        "Parking charges are set by the hospital trust, not the IBD service, so we cannot "
        "change them. We have passed the idea to the trust's patient experience team. The "
        "helpline can tell you about help with travel costs.",
    ),
]
IN_PROGRESS = ("letters", "A new letter template is being written with patients.")


def seed(*, out) -> None:
    community = Community.objects.get(slug="ibd-together")
    people = {key: User.objects.get(email=email) for key, email in PEOPLE.items()}
    cora = people["cora"]
    themes = {}
    for position, (name, description) in enumerate(THEMES):
        themes[name], _ = Theme.objects.update_or_create(
            community=community,
            name=name,
            defaults={"description": description, "position": position},
        )
    session = Session.objects.get(community=community, title=SESSION_TITLE)
    for text in MORE_KEY_POINTS:
        KeyPoint.objects.get_or_create(session=session, text=text, defaults={"created_by": cora})

    now = timezone.now()
    ideas = _ideas(community, session, people, themes, now)
    for h, (key, person, text) in enumerate(COMMENTS):
        idea = ideas.get(key)
        if idea is not None:
            with _dated(min(idea.created_at + timedelta(days=1, hours=h), now)):
                _comment(idea, people[person], text)

    source, target, note = MERGE
    if source in ideas and target in ideas and ideas[source].status != Idea.Status.MERGED:
        with _dated(now - timedelta(hours=20)):
            services.merge_ideas(source=ideas[source], target=ideas[target], by=cora, note=note)

    _round(community, ideas, people, now)
    with _dated(now - timedelta(days=1)):
        _decide(ideas, cora)
    out.write(
        f"Demo ideas: {community.ideas.count()} in {len(themes)} themes, a closed "
        f"prioritisation round and "
        f"{Decision.objects.filter(idea__community=community).count()} decisions"
    )


def _ideas(community, session, people, themes, now) -> dict[str, Idea]:
    """The demo ideas by key, added if they are not there yet, with their supporters."""
    ideas = {}
    for n, (key, title, description, theme_names, origin, days_ago, supporters) in enumerate(IDEAS):
        idea = Idea.objects.filter(community=community, title=title).first()
        if idea is None:
            # Ideas from the session date from it; the rest from the days before today.
            if days_ago is None:
                when = min(session.starts_at + timedelta(minutes=5 * n), now)
            else:
                when = now - timedelta(days=days_ago, hours=n % 7)
            with _dated(when):
                idea = _add(community, session, people, title, description,
                            [themes[t] for t in theme_names], origin)  # fmt: skip
        if idea is None:
            continue
        idea.refresh_from_db()
        ideas[key] = idea
        if idea.is_open_for_discussion:
            turn = n % len(SUPPORTERS)
            rota = [p for p in SUPPORTERS[turn:] + SUPPORTERS[:turn] if people[p] != idea.author]
            for h, person in enumerate(rota[:supporters]):
                with _dated(min(idea.created_at + timedelta(hours=5 + 7 * h), now)):
                    services.support_idea(idea=idea, user=people[person])
    return ideas


@contextmanager
def _dated(when):
    """What the block writes about ideas is dated `when`, so the demo reads like a few
    weeks of activity. Only rows written in the block change: they are the only ones dated
    after it started."""
    started = timezone.now()
    yield
    Idea.objects.filter(created_at__gte=started).update(created_at=when)
    Idea.objects.filter(status_changed_at__gte=started).update(status_changed_at=when)
    Idea.objects.filter(decided_at__gte=started).update(decided_at=when)
    IdeaEvent.objects.filter(at__gte=started).update(at=when)
    Support.objects.filter(created_at__gte=started).update(created_at=when)
    Comment.objects.filter(created_at__gte=started).update(created_at=when)
    Decision.objects.filter(decided_at__gte=started).update(decided_at=when)


def _add(community, session, people, title, description, themes, origin) -> Idea | None:
    kind, detail = origin
    common = {"community": community, "title": title, "description": description}
    if kind == "key_point":
        key_point = KeyPoint.objects.filter(session=session, text=detail).first()
        if key_point is None:
            return None
        return services.add_idea(**common, by=people["cora"], themes=themes, key_point=key_point)
    if kind == "session":
        return services.add_idea(
            **common,
            by=people["cora"],
            themes=themes,
            source=Idea.Source.SESSION,
            session=session,
            on_behalf={"on_behalf_of": detail},
        )
    if kind == "survey":
        answer = Answer.objects.filter(
            response__survey__community=community,
            response__survey__title=SURVEY_TITLE,
            text=detail,
        ).first()
        if answer is None:
            return None
        return services.add_idea(**common, by=people["cora"], themes=themes, survey_answer=answer)
    if kind == "online":
        return services.add_idea(**common, by=people[detail], themes=themes)
    return services.add_idea(
        **common, by=people["parveen"], themes=themes, source=Idea.Source.PAPER, on_behalf=detail
    )


def _comment(idea, person, text) -> None:
    # Comments move with a merged idea: look for this one wherever it is now.
    if Comment.objects.filter(idea__community=idea.community, author=person, text=text).exists():
        return
    if idea.is_open_for_discussion:
        services.add_comment(idea=idea, user=person, text=text)


def _round(community, ideas, people, now) -> None:
    if PrioritisationRound.objects.filter(community=community, title=ROUND_TITLE).exists():
        return  # A closed round cannot change: it stays as the first run left it.
    cora = people["cora"]
    shortlist = [(key, ideas[key]) for key in ROUND_SCORES if key in ideas]
    with _dated(now - timedelta(days=11)):
        for _key, idea in shortlist:
            if idea.status == Idea.Status.NEW:
                services.change_status(
                    idea=idea,
                    status=Idea.Status.CONSIDERING,
                    by=cora,
                    note="Shortlisted for the autumn prioritisation round.",
                )
    round_ = services.create_round(
        community=community,
        by=cora,
        title=ROUND_TITLE,
        description=ROUND_DESCRIPTION,
        ideas=[idea for _key, idea in shortlist],
    )
    # Patients and carers score as the community, the IBD team as professionals: the group
    # comes from the perspectives each person brings, as on the coordinator pages.
    perspectives = defaultdict(list)
    for user_id, perspective in MembershipPerspective.objects.filter(
        membership__community=community, membership__status=Membership.Status.ACTIVE
    ).values_list("membership__user", "perspective"):
        perspectives[user_id].append(perspective)
    scorers = services.invite_scorers(
        round=round_,
        people={people[p]: Scorer.group_for(perspectives[people[p].pk]) for p in SCORERS},
        by=cora,
    )
    # Not services.open_round: that would send the demo people scoring invitations.
    round_.set_status(PrioritisationRound.Status.OPEN)
    criteria = list(round_.criteria.all())
    for s, scorer in enumerate(scorers):
        values = {}
        for i, (key, idea) in enumerate(shortlist):
            community_view, professional_view = ROUND_SCORES[key]
            view = community_view if scorer.group == Scorer.Group.COMMUNITY else professional_view
            for c, criterion in enumerate(criteria):
                value = view[c] + SPREAD[(s + i + c) % len(SPREAD)]
                values[(idea.pk, criterion.pk)] = max(1, min(5, value))
        services.record_scores(round=round_, scorer=scorer, values=values)
    round_ = services.close_round(round=round_)
    PrioritisationRound.objects.filter(pk=round_.pk).update(
        created_at=now - timedelta(days=11),
        opened_at=now - timedelta(days=10),
        closed_at=now - timedelta(days=3),
    )
    Scorer.objects.filter(round=round_).update(invited_at=now - timedelta(days=11))
    Score.objects.filter(scorer__round=round_).update(updated_at=now - timedelta(days=5))

    # The top of the results, as the coordinators see them: each group's view has an equal
    # say, however many people are in it.
    top = [result.idea for result in round_results(round_)[:CHOSEN]]
    with _dated(now - timedelta(days=3)):
        services.mark_prioritised(round=round_, ideas=top, by=cora)


def _decide(ideas, by) -> None:
    for key, outcome, reason in DECISIONS:
        idea = ideas.get(key)
        if idea is None:
            continue
        idea.refresh_from_db()
        if idea.status in (Idea.Status.MERGED, Idea.Status.DONE) or idea.decisions.exists():
            continue
        services.decide(idea=idea, outcome=outcome, reason=reason, by=by)
        if key == IN_PROGRESS[0]:
            idea.refresh_from_db()
            if Idea.Status.IN_PROGRESS in idea.NEXT_STATUSES[idea.status]:
                services.change_status(
                    idea=idea, status=Idea.Status.IN_PROGRESS, by=by, note=IN_PROGRESS[1]
                )
