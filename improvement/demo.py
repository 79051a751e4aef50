"""Demo ideas for IBD Together: what people said at the listening session, online and on
paper, how the community and the IBD team scored them, what was decided, the "you said,
we did" updates that closed the loop (and the inputs still waiting for one), and the
improvement projects that put some of the ideas into practice.

Everything goes through `improvement.services`, so each idea's history reads as it would on
a real site. Running the demo again finds what is there (ideas by title, the round by its
title, decisions by idea) instead of adding copies. The times are moved into the past
as it is written, so the demo reads like a few weeks of activity.

Like the other demos, this one sends no notifications: demo people are invited to score
while the round is being set up (nobody is told then), and the round is opened with the
round's own status change rather than `services.open_round`, which would invite them. For
the same reason updates are published without `services.publish_update` (see `_updates`),
and the finished improvement project's result is the update already written about its idea,
not a new one that `services.publish_result` would send (see `_stool_kits_project`).

The dates make the loop-closure figures read true: most ideas were answered within a few
weeks, two early ones late, and a few from the board's first weeks have waited longer than
the community's promise, so the coordinator dashboard has something to act on.

Then the improvement work: a project on clinic letters, led by a patient trained in
improvement methods, with half a year of weekly data in which the share of letters arriving
in time shifts up after the change its two PDSA cycles tested; and a small finished project
on stool test kits. Projects are found by title, and made only once.
"""

import csv
import io
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from communities.models import Community, Membership, MembershipPerspective
from engagement.models import Answer, KeyPoint, Session
from improvement import services
from improvement.forms import CycleForm, MeasureForm, ProjectForm, ResultForm, UpdateForm
from improvement.models import (
    Comment,
    Cycle,
    Decision,
    Idea,
    IdeaEvent,
    PrioritisationRound,
    Project,
    Score,
    Scorer,
    Support,
    TeamMember,
    Theme,
    Update,
)
from improvement.prioritisation import round_results
from members import revisions
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
    # From the first weeks of the board, before the listening session: some were answered
    # (two of them late), and some have waited longer than the community promises.
    (
        "signs",
        "Clearer signs to the IBD clinic and the infusion unit",
        "The IBD clinic moved, but the signs in the main entrance still point to the old day "
        "unit. People arrive late and flustered, and some cannot find a toilet on the way.",
        ["Access"],
        ("online", "hannah"),
        52,
        4,
    ),
    (
        "team-faces",
        "A 'who's who' of the IBD team",
        "We hear a different name every time we ring. A page with the team's photos and what "
        "each person does (nurses, consultants, dietitian, secretaries) would help us know who "
        "to ask.",
        ["Communication"],
        ("online", "adaeze"),
        45,
        3,
    ),
    (
        "wifi",
        "Free Wi-Fi in the infusion unit",
        "An infusion takes three or four hours, and the hospital Wi-Fi does not reach the unit. "
        "People cannot work, study or video-call home. Free Wi-Fi would make the day go faster.",
        ["Patient-centred care"],
        ("online", "errol"),
        56,
        5,
    ),
    (
        "stool-kits",
        "Stool test kits handed out at clinic",
        "To check for a flare we are asked for a stool sample, but first we have to ring for a "
        "pot, collect it, and drop it back, often on the day we feel worst. Hand out the kit, "
        "with a bag and simple instructions, at every review.",
        ["Access", "Support between appointments"],
        ("online", "hannah"),
        47,
        4,
    ),
    (
        "bowel-prep",
        "Better advice on bowel prep before a colonoscopy",
        "The leaflet does not say what to eat, when to take the second dose if the test is in "
        "the afternoon, or what to do if you are already in a flare. A call from a nurse the "
        "week before would help.",
        ["Communication"],
        (
            "paper",
            {
                "on_behalf_of": "Mr T., on a form left at clinic reception",
                "contact_by": "post",
                "contact_details": "22 Sample Street, Sheffield S6 0ZZ",
            },
        ),
        41,
        2,
    ),
    (
        "fit-notes",
        "Fit notes from clinic, without going back to the GP",
        "When I am off work in a flare, the GP wants a letter from clinic before giving a fit "
        "note, and clinic tells me to ask the GP. Let the IBD team write fit notes.",
        ["Access", "Patient-centred care"],
        ("online", "errol"),
        39,
        3,
    ),
    (
        "pain-relief",
        "Tell us which pain relief is safe with IBD",
        "Nobody told me that ibuprofen can set off a flare. A simple list of which painkillers "
        "are safe with IBD, given out when you are diagnosed, would save a lot of harm.",
        ["Communication", "Support between appointments"],
        ("online", "michael"),
        36,
        4,
    ),
    (
        "ae-card",
        "An 'I have IBD' card to show in A&E",
        "When my son ends up in A&E we explain his Crohn's, his medicines and his surgery to "
        "every new doctor. A card or letter from the IBD team saying what he has, what he "
        "takes and who to call would save hours.",
        ["Patient-centred care", "Support between appointments"],
        ("online", "bilal"),
        33,
        3,
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
    ("wifi", "adaeze", "Four hours with nothing to do but watch the drip. Yes please."),
    ("stool-kits", "michael", "My last sample sat at the GP's for three days before the lab "
     "got it."),
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
    (
        "helpline",
        Decision.Outcome.ADAPT,
        "We cannot yet promise every call back within one working day. Anyone who tells the "
        "answerphone they are in a flare will be called back the same working day, and "
        "everyone else within two working days. The answerphone message will say so.",
    ),
]
IN_PROGRESS = ("letters", "A new letter template is being written with patients.")

# How the update about the round's results names its ideas.
ROUND_NAMES = {
    "letters": "plain-English clinic letters",
    "rebook": "changing appointments by text or online",
    "helpline": "quicker helpline call backs",
    "transition": "a proper handover to adult care",
    "toilet-card": "a toilet access card",
    "evening-clinics": "evening or Saturday clinics",
    "named-nurse": "a named nurse for each patient",
    "flare-plan": "a written flare plan",
}

# Ideas from the board's first weeks that the team took on and finished: (key, reason,
# decided, done; both in days ago). Each is done just before its update is published.
EARLY_DECISIONS = [
    ("signs", "Quick to fix, and it helps everyone who comes to clinic.", 40, 36),
    ("team-faces", "A small job that makes it easier to know who to ask.", 31, 27),
    ("wifi", "Worth doing for everyone who spends a day in the infusion unit.", 33, 20),
    ("stool-kits", "It saves patients a trip, and gets results to us sooner.", 14, 4),
]

# The "you said, we did" updates: (headline, what we heard, what we did, what happens next,
# the ideas it answers, whether it answers the listening session, written and published in
# days ago; published None for a draft). The round's results fill in "{top}",
# "{community_higher}" and "{professional_higher}", using the short names below.
UPDATES = [
    (
        "What we heard at our first listening session",
        "Thank you to everyone who came to our first listening session at Firth Park Community "
        "Centre. You told us a lot, and some of it was hard to hear. Clinic letters are full of "
        "words and abbreviations that people do not understand. It can take days to get "
        "through on the phone just to change an appointment. Several of you waited over a week "
        "for the helpline to call back during a flare. Young people who moved from the "
        "children's service said they felt dropped. And many of you plan every trip, including "
        "the journey to clinic, around finding a toilet.",
        "We have written up everything you said and put each idea on the ideas board, so you "
        "can see it, support it and add to it. If you said it, it is there. The whole IBD team "
        "has read them. Eight ideas, from the session and from the board, go forward to our "
        "autumn round, where patients, carers and staff score them side by side.",
        "Scoring has started. We will write to you again when the scores are in, and "
        "again when the team has decided what to do about each idea. If you think we missed "
        "something, tell any of us, or add it to the board.",
        [],
        True,
        11,
        10,
    ),
    (
        "The scores are in: what you and the IBD team chose to do first",
        "Eight ideas went into the autumn round. Patients and carers, and the IBD team, each "
        "scored them on the difference they would make, how many people they would reach, and "
        "how easy they would be to do. Each group's view counted the same, however many people "
        "were in it.",
        "The three ideas that came top are {top}. We will take these forward first. Where the "
        "two groups saw things differently, we want to be open about it: patients and carers "
        "scored {community_higher} much higher than the team did, and the team scored "
        "{professional_higher} higher than patients and carers did. Those differences will "
        "shape how we go about each one.",
        "The team will decide what to do about all eight ideas in the next fortnight, "
        "including the five that did not come top, and we will tell you what was decided and "
        "why.",
        list(ROUND_SCORES),
        False,
        3.2,
        2.9,
    ),
    (
        "Clinic letters will be written for you, in plain English",
        "At the listening session, in the clinic letters survey and on paper forms, you told "
        "us that clinic letters are written for doctors, not for you. One of you had a letter "
        "that said only 'TI inflamed, CRP 45'. People could not tell whether a result was "
        "good, bad or no change, and one of you cannot read the small print at all.",
        "Every letter from the IBD clinic will now be written to you, with a short 'What this "
        "means for you' at the top, and a copy sent to your GP. Test results will say whether "
        "they are better, worse or no change, and what happens next. Abbreviations will be "
        "spelled out. If you need large print, easy read or another language, tell us once "
        "and every letter after that will come that way.",
        "Patients at the clinic letters workshop are helping the team write the new template. "
        "We will try it out first, then use it for every letter. We will write again when the "
        "first new letters go out, and we would like to hear how they read.",
        ["letters", "large-print", "explain-results"],
        False,
        0.95,
        0.85,
    ),
    (
        "'Can't Wait' cards will be handed out at clinic",
        "Many of you plan every trip around finding a toilet, and some of you avoid going into "
        "town because of it. You asked for a card, given out at clinic, that asks shops and "
        "cafés to let you use their staff toilet. Others pointed out that the charity already "
        "has one, but most people have never heard of it.",
        "Rather than print a card of our own, we will give every patient the charity's 'Can't "
        "Wait' card at their next clinic visit, with a word about how to use it. The nurses "
        "will also explain how to get a key for locked accessible toilets. Shops already know "
        "the charity's card, so it should work in more places than a new one would.",
        "The cards will be at clinic reception from the start of next month. If you do not "
        "want to wait for your next appointment, ring the helpline and we will post one to you.",
        ["toilet-card"],
        False,
        0.9,
        0.8,
    ),
    (
        "Video reviews when you are well; evening clinics not yet",
        "Taking half a day off work for a ten-minute review is hard to explain to an employer, "
        "and harder still if you look after children. You asked for evening or Saturday "
        "clinics, and for video or phone reviews when you are well.",
        "If you are well, you can now choose a video or phone call for your routine review "
        "instead of coming in. First appointments, and reviews after a change in treatment, "
        "stay face to face, because that is when the team needs to see you. We cannot run "
        "evening clinics this year: we do not have the staff, and we would rather say so "
        "plainly than promise something we cannot keep. In the meantime we will try some "
        "video reviews after 5pm.",
        "We will look at evening clinics again when the new consultant starts in the spring, "
        "and write to tell you what we decide. To have your next review by video or phone, "
        "ring the clinic secretaries.",
        ["video", "evening-clinics"],
        False,
        0.85,
        0.75,
    ),
    (
        "Free parking on infusion days: why we cannot change it, and what we are doing instead",
        "An infusion takes most of a day, and parking can cost more than £10 each time. For "
        "people in the north of the city, getting to clinic can mean two buses each way, "
        "which is a lot to ask of anyone with IBD.",
        "We have to be honest: the IBD service cannot make parking free. Parking charges are "
        "set by the hospital trust, not by us. We have passed both ideas, in your own words, to "
        "the trust's patient experience team and asked them to reply. In the meantime, if you "
        "get certain benefits or are on a low income, the NHS Healthcare Travel Costs Scheme "
        "can pay back your fares and parking. The helpline can tell you whether you qualify "
        "and how to claim.",
        "We will share the trust's reply as soon as we have it. If it changes anything, we "
        "will tell you.",
        ["parking", "transport"],
        False,
        0.8,
        0.7,
    ),
    (
        "New signs to the IBD clinic are up",
        "The IBD clinic moved, but the signs in the main entrance still pointed to the old day "
        "unit. People were arriving late and flustered, and some could not find a toilet on "
        "the way.",
        "Thank you for telling us. The estates team has put up new signs from the main "
        "entrance and the car park to the IBD clinic and the infusion unit, with the nearest "
        "toilets marked along the way. Two patients walked the route with us to check it makes "
        "sense.",
        "If you still get lost, or spot a sign we missed, tell clinic reception or add a "
        "comment to the idea.",
        ["signs"],
        False,
        36.5,
        36,
    ),
    (
        "Who's who in the IBD team",
        "You told us you hear a different name every time you ring, and do not know who does what.",
        "There is now a board in the clinic waiting room with a photo of each person in the "
        "team, their name and what they do: nurses, consultants, the dietitian and the "
        "secretaries. The same page comes with your next appointment letter, and says who to "
        "ring about what.",
        "When people join or leave the team, we will change the board and the page.",
        ["team-faces"],
        False,
        27.5,
        27,
    ),
    (
        "Free Wi-Fi now reaches the infusion unit",
        "An infusion takes three or four hours, and the hospital Wi-Fi did not reach the unit, "
        "so people could not work, study or call home.",
        "This took longer than it should have, and we are sorry we did not write sooner. The "
        "trust's IT team had to put in a new access point. Free guest Wi-Fi now works in every "
        "bay of the infusion unit, and the nurses can help you connect.",
        "If it drops out, tell the nurses, so they can report it straight away.",
        ["wifi"],
        False,
        21,
        20,
    ),
    (
        "Stool test kits are now handed out at clinic",
        "To check for a flare we ask you for a stool sample. Getting one to the lab meant "
        "ringing for a pot, collecting it and dropping it back, often on a day you feel worst, "
        "and samples sometimes sat at the GP's for days.",
        "We are sorry this took so long to answer: we needed the lab to agree a new way of "
        "doing it. From now on the nurses will give you a kit at every review, with a pot, a "
        "labelled bag and simple instructions. You can take it straight to the hospital lab "
        "reception, or to your GP surgery, which now sends IBD samples the same day.",
        "If you are in a flare and have no kit at home, ring the helpline and we will post "
        "you one.",
        ["stool-kits"],
        False,
        5,
        4,
    ),
    (
        "Helpline call backs: what we are changing",
        "Several of you waited over a week for the helpline to call back during a flare, and "
        "some ended up in A&E. People who work nights told us the call back comes when they "
        "are asleep.",
        "We cannot yet promise every call back within one working day. Anyone who tells the "
        "answerphone they are in a flare will be called back the same working day, and "
        "everyone else within two working days.",
        "",
        ["helpline", "night-shifts"],
        False,
        0.2,
        None,
    ),
]

# --- Improvement projects ---------------------------------------------------------------------
#
# Two projects. The letters project is the one to show: the IBD team and Michael, a patient
# trained in improvement methods (AWARE-IBD's "microsystems coach"), have been getting clinic
# letters out faster for months. It began before the ideas board opened, so its data and its
# cycles are older than the ideas; the plain-English letters idea, adopted this week, is
# linked to it because its template is the next change the project will test. The stool
# kits project is small and finished: its result is the "you said, we did" update about
# stool kits that the demo publishes above.
#
# Dates in the letters project count in weeks: week 0 is the first week of its baseline and
# week 25 the last full week before today. Each point is dated on the Monday of its week.

LETTERS_PROJECT = {
    "title": "Clinic letters that arrive in time and make sense",
    "lead": "michael",
    "team": ["ceri", "cora", "dorota"],
    "ideas": ["letters"],
    "aim_what": "People with IBD receive the letter from each clinic appointment before their "
    "next appointment or test, written so that they can understand it.",
    "aim_how_much": "From about 45% of letters arriving in time to 90%",
    "driver_diagram": (
        "Letters written soon after clinic\n"
        "  Dictation done in clinic\n"
        "    Dictate before calling the next patient\n"
        "    Five minutes in each clinic slot for it\n"
        "  Quick sign-off\n"
        "    Sign letters off on screen the same day\n"
        "    Secretaries send without a paper signature\n"
        "Letters sent the quickest way\n"
        "  The way each person chooses\n"
        "    Letters in the NHS App for those who want it\n"
        "    First-class post when the next visit is soon\n"
        "Letters people can understand\n"
        "  Written to the patient, in plain English\n"
        "    Plain-English template written with patients\n"
        "    Large print, easy read or another language\n"
    ),
}
# The week the first change was tried, the week it went to every clinic, and the weeks each
# cycle ran (start week, end week: each ends on the Friday of its last week).
LETTERS_CHANGE_WEEK = 12
LETTERS_EVERY_CLINIC_WEEK = 14
LETTERS_CYCLES = [
    {
        "weeks": (12, 13),
        "change": "Ceri dictates each letter in clinic, before calling the next patient "
        "(Tuesday clinic only)",
        "prediction": "Letters from the Tuesday clinic will be sent within 5 working days "
        "instead of about 12, and the clinic will run no more than 10 minutes over.",
        "measuring": "Working days from clinic to letter sent for the Tuesday clinic; how many "
        "of its letters arrive before the next appointment or test; how late the clinic "
        "finishes.",
        "do": "Over two Tuesday clinics Ceri dictated 31 of 34 letters before calling the next "
        "patient, and the other three at the end. The secretaries typed them the next "
        "morning, but nine then waited almost a week for Ceri to sign them on paper. Michael, "
        "our patient improvement coach, ran a ten-minute huddle after each clinic to note "
        "what got in the way.",
        "study": "Letters went out in 6 working days on average, not the 5 we predicted: "
        "dictating in clinic worked, and signing off on paper became the new hold-up. 25 of "
        "the 34 letters arrived before the next appointment or test, against about 45% "
        "before. The clinic ran 15 minutes over, a little more than we expected.",
        "act": "adapt",
        "act_notes": "Keep dictating in clinic, and sign letters off on screen the same day so "
        "the secretaries can send them straight away. Try it in every IBD clinic.",
    },
    {
        "weeks": (14, 17),
        "change": "Every IBD clinic dictates in clinic and signs letters off on screen the "
        "same day",
        "prediction": "Letters from every IBD clinic will be sent within 5 working days, 8 in "
        "10 will arrive before the next appointment or test, and clinics will run no more "
        "than 10 minutes over once people are used to it.",
        "measuring": "All three measures on this page: letters that arrive in time, working "
        "days from clinic to letter sent, and how late clinics finish.",
        "do": "All four consultants and both nurse specialists dictated in clinic from the "
        "first week. Signing off on screen needed a change to the letters system, which IT "
        "made at the start of the second week; until then Dorota's team took the letters "
        "round for signing every afternoon. Clinics ran later in the first fortnight, then "
        "settled.",
        "study": "Every week since the change, more letters arrived in time than the baseline "
        "median: a shift on the run chart, as we predicted, and by the end of the cycle it "
        "was nearly 8 in 10. Letters are now sent in under 5 working days on average, though "
        "not every week, so the process chart has new limits from the start of this cycle. "
        "Clinics ran about 18 minutes over in the first fortnight, then about 13, as before.",
        "act": "adopt",
        "act_notes": "This is now how every IBD clinic works: it is in the secretaries' "
        "procedures and in the induction for new clinicians. Next we will test the "
        "plain-English template being written with patients at the clinic letters workshop, "
        "so that letters that arrive in time also make sense.",
    },
]
# Each week's letters, from week 0: (letters from that week's clinics, how many were sent in
# time to arrive before the next appointment or test).
LETTERS_ON_TIME = [
    (52, 23), (47, 22), (55, 23), (49, 24), (51, 23), (44, 18), (53, 25), (50, 24), (38, 16),
    (54, 26), (48, 21), (52, 22), (51, 27), (49, 27), (53, 33), (50, 36), (55, 42), (47, 37),
    (52, 43), (49, 39), (54, 46), (45, 37), (51, 44), (53, 45), (40, 35), (50, 43),
]  # fmt: skip
LETTERS_WEEK_NOTES = {
    8: "One clinic cancelled: consultant on leave.",
    24: "One clinic cancelled: consultant on leave.",
}
# Working days from clinic to letter sent, each week from week 2 (when the letters system
# started recording the day a letter is sent).
LETTERS_DAYS_FROM = 2
LETTERS_DAYS = [12.4, 13.1, 11.8, 12.9, 14.2, 12.2, 13.6, 11.9, 12.7, 13.3, 11.6, 10.9,
                5.9, 5.2, 4.6, 5.0, 4.4, 4.9, 4.3, 4.8, 4.5, 4.1, 4.7, 4.4]  # fmt: skip
# Minutes clinics ran over, every other week from week 8.
LETTERS_OVERRUN_FROM = 8
LETTERS_OVERRUN = [11, 14, 12, 18, 16, 13, 12, 14, 11]
LETTERS_MEASURES = [
    {
        "name": "Letters that arrive before the next appointment or test",
        "definition": "Of the letters from each week's IBD clinics, the percentage sent at "
        "least two working days before the patient's next appointment or test, so that they "
        "arrive in time. From the letters system and the booking system; each point's note "
        "gives the numbers.",
        "kind": "outcome",
        "unit": "%",
        "higher_is_better": True,
        "target": 90,
        "chart": "run",
    },
    {
        "name": "Working days from clinic to letter sent",
        "definition": "The average, over each week's IBD clinic letters, of the working days "
        "from the clinic to the day the letter is sent (posted or put in the NHS App). From "
        "the letters system.",
        "kind": "process",
        "unit": "working days",
        "higher_is_better": False,
        "target": 5,
        "chart": "xmr",
    },
    {
        "name": "Minutes clinics run over",
        "definition": "How long after its booked end each IBD clinic finished, averaged over "
        "the fortnight's clinics, from the clinic check-out times. Dictating in clinic takes "
        "time, so we watch that clinics do not run later.",
        "kind": "balancing",
        "unit": "minutes",
        "higher_is_better": False,
        "target": None,
        "chart": "run",
    },
]

# The stool kits project ran between the decision on the idea and the day it was done (see
# EARLY_DECISIONS); its cycle and data are dated in days before today.
STOOL_KITS_PROJECT = {
    "title": "Stool test kits at every review",
    "lead": "hannah",
    "team": ["ceri", "gareth"],
    "ideas": ["stool-kits"],
    "aim_what": "People asked for a stool sample at an IBD review leave with a kit, and their "
    "sample reaches the lab quickly.",
    "aim_how_much": "Samples at the lab within 3 days of the review, down from about 8",
    "driver_diagram": (
        "A kit in hand\n"
        "  Kits given out at the review\n"
        "    Nurses hand out a kit at every review\n"
        "    Spare kits kept at reception\n"
        "  Kits for people in a flare\n"
        "    The helpline posts a kit to anyone who asks\n"
        "Samples reach the lab quickly\n"
        "  Drop-off close to home\n"
        "    GP surgeries send IBD samples the same day\n"
        "    Lab reception takes samples directly\n"
    ),
}
STOOL_KITS_CYCLE = {
    "days_ago": (13, 7),
    "change": "Nurses and consultants hand out a stool test kit at every review where they "
    "ask for a sample",
    "prediction": "Nine in ten people asked for a sample will leave with a kit, and samples "
    "will reach the lab within 3 days instead of about 8.",
    "measuring": "Reviews where a sample was asked for and the patient left with a kit; days "
    "from the review to the sample reaching the lab, from the lab system.",
    "do": "In the first week 17 of the 19 people asked for a sample left with a kit: the "
    "kits ran out before the end of Thursday's clinic. The GP surgeries agreed to send IBD "
    "samples to the lab the same day.",
    "study": "Samples reached the lab in about 2 days on average, better than we predicted. "
    "The two people without a kit waited 9 and 11 days, as before.",
    "act": "adopt",
    "act_notes": "Kits at every review, from every nurse and consultant, with a box of spare "
    "kits at reception so they do not run out, and kits posted by the helpline.",
}
# Days from review to sample at the lab: six weeks before the change (from the lab system),
# then the week of the cycle and the week after.
STOOL_KITS_DAYS = [8.2, 7.5, 9.1, 7.9, 8.6, 8.8, 2.4, 1.9]
STOOL_KITS_MEASURE = {
    "name": "Days from review to the sample reaching the lab",
    "definition": "The average, over each week's IBD reviews where a stool sample was asked "
    "for, of the days from the review to the sample reaching the lab. From the lab system.",
    "kind": "process",
    "unit": "days",
    "higher_is_better": False,
    "target": 3,
    "chart": "run",
}
STOOL_KITS_RESULT = (
    "The nurses and consultants now give a stool test kit, with a pot, a labelled bag and "
    "simple instructions, to everyone asked for a sample at a review. Spare kits are kept at "
    "reception, and the helpline posts one to anyone in a flare who has none. GP surgeries "
    "now send IBD samples to the lab the same day.\n\n"
    "In the first two weeks samples reached the lab in about 2 days, against about 8 before. "
    "Two weeks are too few for the run chart to show a shift, so the lab will send us the "
    "figure every month and we will keep adding it."
)


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
    _decide_early(ideas, cora, now)
    _updates(community, session, ideas, cora, now)
    _letters_project(community, ideas, people, now)
    _stool_kits_project(community, ideas, people, now)
    updates = Update.objects.filter(community=community)
    out.write(
        f"Demo ideas: {community.ideas.count()} in {len(themes)} themes, a closed "
        f"prioritisation round, "
        f"{Decision.objects.filter(idea__community=community).count()} decisions, "
        f"{updates.published().count()} published updates (and "
        f"{updates.filter(status=Update.Status.DRAFT).count()} draft) and "
        f"{community.projects.count()} improvement projects"
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
                idea = _add(
                    community,
                    session,
                    people,
                    title,
                    description,
                    [themes[t] for t in theme_names],
                    origin,
                )
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
    round_.set_status(PrioritisationRound.Status.OPEN, by=cora)
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


def _decide_early(ideas, by, now) -> None:
    for key, reason, decided, done in EARLY_DECISIONS:
        idea = ideas.get(key)
        if idea is None or idea.decisions.exists():
            continue
        with _dated(now - timedelta(days=decided)):
            services.decide(idea=idea, outcome=Decision.Outcome.ADOPT, reason=reason, by=by)
            services.change_status(idea=idea, status=Idea.Status.IN_PROGRESS, by=by)
        with _dated(now - timedelta(days=done, hours=2)):
            services.change_status(idea=idea, status=Idea.Status.DONE, by=by)


def _updates(community, session, ideas, by, now) -> None:
    """Write the updates as a coordinator would (the update form and `save_update`), then
    publish them without telling anyone.

    `services.publish_update` would write a notification for every contributor, and the
    outbox would email the demo people (and put the paper contributors on the letters-and-
    calls list) as soon as a worker or the sweep runs. Like the rest of the demo, this sends
    nothing: each update is marked published, on its date, by the same conditional change
    `publish_update` makes, and its ideas get the same "update published" history line.
    `told_count` is set to the audience publishing would have told, so the coordinators'
    list reads as it would on a real site; no notification rows are written."""
    round_text = _round_text(community, ideas)
    for title, heard, did, next_, keys, with_session, written, published in UPDATES:
        if Update.objects.filter(community=community, title=title).exists():
            continue
        if any(key not in ideas for key in keys):
            continue
        form = UpdateForm(
            {
                "title": title,
                "what_we_heard": heard,
                "what_we_did": did.format(**round_text),
                "what_next": next_,
                "ideas": [ideas[key].pk for key in keys],
                "sessions": [session.pk] if with_session else [],
            },
            community=community,
        )
        if not form.is_valid():
            raise ValueError(f"Demo update {title!r} does not validate: {form.errors.as_data()}")
        update = services.save_update(form=form, by=by)
        Update.objects.filter(pk=update.pk).update(created_at=now - timedelta(days=written))
        if published is None:
            continue
        when = now - timedelta(days=published)
        Update.objects.filter(pk=update.pk, status=Update.Status.DRAFT).update(
            status=Update.Status.PUBLISHED,
            published_at=when,
            published_by=by,
            told_count=services.audience_summary(update)["total"],
        )
        IdeaEvent.objects.bulk_create(
            IdeaEvent(
                idea=idea,
                kind=IdeaEvent.Kind.UPDATED,
                actor=by,
                at=when,
                status=_status_at(idea, when),
                note=title,
            )
            for idea in update.ideas.all()
        )


def _round_text(community, ideas) -> dict[str, str]:
    """What the round's results say, in words: the top ideas, and the ideas each group
    scored clearly higher than the other did."""
    names = {ideas[key].pk: name for key, name in ROUND_NAMES.items() if key in ideas}
    round_ = PrioritisationRound.objects.filter(community=community, title=ROUND_TITLE).first()
    results = round_results(round_) if round_ else []

    def listed(rows):
        words = [names.get(r.idea.pk, r.idea.title) for r in rows]
        return " and ".join(filter(None, [", ".join(words[:-1]), words[-1] if words else ""]))

    return {
        "top": listed(results[:CHOSEN]),
        "community_higher": listed(
            r for r in results if r.disagree and r.higher_view == "community"
        ),
        "professional_higher": listed(
            r for r in results if r.disagree and r.higher_view == "professional"
        ),
    }


def _status_at(idea, when) -> str:
    """The idea's status at `when`, from its history: its status line on the update."""
    status = (
        idea.events.filter(at__lte=when)
        .exclude(status="")
        .order_by("-at", "-pk")
        .values_list("status", flat=True)
        .first()
    )
    return status or idea.status


def _letters_project(community, ideas, people, now) -> None:
    """The letters project: a baseline, two PDSA cycles, and a shift in the letters that
    arrive in time after the change. Made once: a second run finds it by its title and leaves
    it as it is (its dates are counted from the day it was made)."""
    if Project.objects.filter(community=community, title=LETTERS_PROJECT["title"]).exists():
        return
    today = timezone.localdate(now)
    last_monday = today - timedelta(days=today.weekday() + 7)  # the last full week

    def week(n):
        return last_monday - timedelta(weeks=len(LETTERS_ON_TIME) - 1 - n)

    change, every_clinic = week(LETTERS_CHANGE_WEEK), week(LETTERS_EVERY_CLINIC_WEEK)
    project = _new_project(
        community,
        ideas,
        people,
        LETTERS_PROJECT,
        aim_by_when=_month_end(last_monday + timedelta(weeks=10)),
        created=_at(week(0) - timedelta(days=10)),
    )
    _start(project, people[LETTERS_PROJECT["lead"]], starts_on=change)
    for cycle in LETTERS_CYCLES:
        first, last = cycle["weeks"]
        _cycle(project, cycle, starts_on=week(first), ends_on=week(last) + timedelta(days=4))
    outcome, process, balancing = LETTERS_MEASURES
    _measure(
        project,
        outcome,
        {"baseline_until": change - timedelta(days=1)},
        [
            (
                week(n),
                round(100 * on_time / letters, 1),
                " ".join(
                    filter(
                        None, [f"{on_time} of {letters} letters.", LETTERS_WEEK_NOTES.get(n, "")]
                    )
                ),
            )
            for n, (letters, on_time) in enumerate(LETTERS_ON_TIME)
        ],
    )
    _measure(
        project,
        process,
        {"rebase_from": every_clinic},
        [(week(LETTERS_DAYS_FROM + n), days, "") for n, days in enumerate(LETTERS_DAYS)],
    )
    _measure(
        project,
        balancing,
        {},
        [(week(LETTERS_OVERRUN_FROM + 2 * n), m, "") for n, m in enumerate(LETTERS_OVERRUN)],
    )


def _stool_kits_project(community, ideas, people, now) -> None:
    """The stool kits project: tested and adopted in a fortnight, and completed the day the
    idea was done. Its published result is the update about stool kits (written above without
    telling anyone), so the people who gave and supported the idea hear about it once."""
    title = STOOL_KITS_PROJECT["title"]
    idea = ideas.get("stool-kits")
    if idea is None or Project.objects.filter(community=community, title=title).exists():
        return
    decided_days, done_days = next(e[2:] for e in EARLY_DECISIONS if e[0] == "stool-kits")
    decided, done = now - timedelta(days=decided_days), now - timedelta(days=done_days)
    project = _new_project(
        community,
        ideas,
        people,
        STOOL_KITS_PROJECT,
        aim_by_when=timezone.localdate(decided) + timedelta(weeks=6),
        created=decided + timedelta(hours=1),
    )
    lead = people[STOOL_KITS_PROJECT["lead"]]
    _start(project, lead, starts_on=timezone.localdate(decided))
    starts, ends = (
        timezone.localdate(now - timedelta(days=d)) for d in STOOL_KITS_CYCLE["days_ago"]
    )
    _cycle(project, STOOL_KITS_CYCLE, starts_on=starts, ends_on=ends)
    before = len(STOOL_KITS_DAYS) - 2  # weeks before the change, from the lab system
    _measure(
        project,
        STOOL_KITS_MEASURE,
        {"baseline_until": starts - timedelta(days=1)},
        [
            (starts + timedelta(weeks=n - before), days, "")
            for n, days in enumerate(STOOL_KITS_DAYS)
        ],
    )
    form = ResultForm({"result": STOOL_KITS_RESULT}, instance=project)
    if not form.is_valid():
        raise ValueError(f"Demo result for {project} does not validate: {form.errors.as_data()}")
    form.save()
    services.change_project_status(project=project, status=Project.Status.COMPLETED, by=lead)
    Project.objects.filter(pk=project.pk).update(ends_on=timezone.localdate(done))
    # Not services.publish_result: that would write a second update, and tell everyone again.
    update = idea.updates.filter(status=Update.Status.PUBLISHED).order_by("published_at").first()
    if update is not None and update.project_id is None:
        Update.objects.filter(pk=update.pk).update(project=project)
        Project.objects.filter(pk=project.pk).update(result_published_at=update.published_at)


def _at(day) -> datetime:
    """Ten in the morning on `day`, local time."""
    return timezone.make_aware(datetime.combine(day, time(10)))


def _month_end(day) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _new_project(community, ideas, people, spec, *, aim_by_when, created) -> Project:
    """A project made as its lead would make it (the project form and `create_project`), with
    its team, dated `created`."""
    form = ProjectForm(
        {
            "title": spec["title"],
            "aim_what": spec["aim_what"],
            "aim_how_much": spec["aim_how_much"],
            "aim_by_when": aim_by_when.isoformat(),
            "ideas": [ideas[key].pk for key in spec["ideas"] if key in ideas],
            "driver_diagram": spec["driver_diagram"],
        },
        community=community,
    )
    if not form.is_valid():
        raise ValueError(
            f"Demo project {spec['title']!r} does not validate: {form.errors.as_data()}"
        )
    fields = dict(form.cleaned_data)
    linked = fields.pop("ideas")
    project = services.create_project(
        community=community, by=people[spec["lead"]], ideas=linked, **fields
    )
    for person in spec["team"]:
        services.set_team_member(project=project, user=people[person], role=TeamMember.Role.MEMBER)
    Project.objects.filter(pk=project.pk).update(created_at=created)
    TeamMember.objects.filter(project=project).update(added_at=created)
    return project


def _start(project, by, *, starts_on) -> None:
    """Start testing changes, as the team would, then date the start. Its ideas are in
    progress already (the demo decided them), so their history gains nothing."""
    services.change_project_status(project=project, status=Project.Status.TESTING, by=by)
    Project.objects.filter(pk=project.pk).update(starts_on=starts_on)
    project.refresh_from_db()


def _cycle(project, spec, *, starts_on, ends_on) -> None:
    fields = ["change", "prediction", "measuring", "do", "study", "act", "act_notes"]
    form = CycleForm(
        {**{f: spec[f] for f in fields}, "starts_on": starts_on, "ends_on": ends_on},
        project=project,
    )
    if not form.is_valid():
        raise ValueError(
            f"Demo cycle {spec['change']!r} does not validate: {form.errors.as_data()}"
        )
    cycle = form.save()
    Cycle.objects.filter(pk=cycle.pk).update(created_at=_at(starts_on))
    revisions.bump(revisions.key(Project.CHARTS_REVISION, project.pk))  # no signal above


def _measure(project, spec, dates, points) -> None:
    """A measure made with the measure form, and its points uploaded as a CSV file, as a
    team would: every row is checked, and a bad one stops the demo."""
    # An unticked box and an empty field are left out of the form's data.
    data = {key: value for key, value in spec.items() if value is not None and value is not False}
    form = MeasureForm({**data, **dates}, project=project)
    if not form.is_valid():
        raise ValueError(
            f"Demo measure {spec['name']!r} does not validate: {form.errors.as_data()}"
        )
    measure = form.save()
    content = io.StringIO()
    writer = csv.writer(content)
    writer.writerow(["date", "value", "note"])
    writer.writerows((when.isoformat(), value, note) for when, value, note in points)
    _count, problems = services.import_points(
        measure=measure, content=content.getvalue().encode("utf-8")
    )
    if problems:
        raise ValueError(f"Demo data for {spec['name']!r}: {'; '.join(map(str, problems))}")
