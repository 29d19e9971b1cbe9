"""`python -m insights.seed`: synthetic conversations for the lead workspace and its benchmark.

    python -m insights.seed --conversations 100000 [--days 90] [--url URL] [--seed 7] [--reset]

Writes rows of `conversation_facts` directly (no Rasa, no events), in batches, each built
as a `ConversationFacts` so every column is what the facts code would store. The rows
are realistic and agree with each other:

- start times over the last `--days` days, busier on weekdays, in the late morning and
  the evening; channels mostly socket.io, then REST, a few others;
- a request (the assistant's request intents) and 1-12 customer turns with words from
  templates, emotion scores per turn (the trajectory; its peak and sum agree with it),
  help-center answers and misses (the misses are paraphrases of ~60 questions the help
  center cannot answer, so the knowledge gaps have groups);
- routing as the policy decides it: empathy when distress rises, handoffs for a request
  for a person, an urgent turn, distress or repeated failures, with the real queues,
  priorities, wait targets and reasons; then claim time, agent, first reply, handling
  time and how the handoff ended;
- the outcome by the facts' own rule, CSAT asked at the end of a conversation (about a
  third answer; ratings follow outcome and frustration), sometimes a comment;
- returning customers: pseudonyms are reused, and a conversation whose customer came back
  within 7 days is marked a repeat contact.

The same `--seed` gives the same rows (their times relative to now). Seeded rows have
sender ids starting with `seed-`; `--reset` deletes those (and their annotations) and
nothing else. Default database: the store's (`STORE_URL`).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

import numpy as np
import sqlalchemy as sa

from core.constants import (
    HANDOFF_CLAIMED,
    HANDOFF_HANDED_BACK,
    HANDOFF_RESOLVED,
    HANDOFF_WAITING,
    INTENT_ACCOUNT_ACCESS,
    INTENT_AFFIRM,
    INTENT_ASK_FAQ,
    INTENT_BILLING_ISSUE,
    INTENT_CANCEL_SUBSCRIPTION,
    INTENT_CHANGE_ADDRESS,
    INTENT_COMPLAINT,
    INTENT_DELIVERY_PROBLEM,
    INTENT_DENY,
    INTENT_GOODBYE,
    INTENT_GREET,
    INTENT_INFORM,
    INTENT_NLU_FALLBACK,
    INTENT_NOT_HELPFUL,
    INTENT_ORDER_STATUS,
    INTENT_REQUEST_HUMAN,
    INTENT_REQUEST_REFUND,
    INTENT_RETURN_ITEM,
    INTENT_THANKS,
    OUTCOME_ABANDONED,
    OUTCOME_PERSON,
    PRIORITY_HIGH,
    PRIORITY_NORMAL,
    PRIORITY_URGENT,
    REPEAT_CONTACT_SECONDS,
    ROUTE_EMPATHIZE,
    ROUTE_ESCALATE,
    SMALL_TALK_INTENTS,
)
from core.database import Database
from insights.facts import MAX_MISSED, ConversationFacts, pseudonym
from insights.schema import facts, lead_annotations, metadata

PREFIX = "seed-"  # every seeded sender id starts with it; --reset deletes those rows only
BATCH = 5_000  # rows per insert
DAY = 86_400
MAX_TURNS = 12

# The routing layer's queues, skills and wait targets (`routing.skills`,
# `routing.decision.RoutingConfig`); insights may not import routing, a test keeps these equal.
ORDERS_SHIPPING, BILLING, ACCOUNT_SECURITY, GENERAL = (
    "orders_shipping",
    "billing",
    "account_security",
    "general",
)
QUEUE_OF_INTENT = {
    INTENT_ORDER_STATUS: ORDERS_SHIPPING,
    INTENT_DELIVERY_PROBLEM: ORDERS_SHIPPING,
    INTENT_CHANGE_ADDRESS: ORDERS_SHIPPING,
    INTENT_RETURN_ITEM: ORDERS_SHIPPING,
    INTENT_REQUEST_REFUND: BILLING,
    INTENT_BILLING_ISSUE: BILLING,
    INTENT_CANCEL_SUBSCRIPTION: BILLING,
    INTENT_ACCOUNT_ACCESS: ACCOUNT_SECURITY,
}
WAIT_TARGET_SECONDS = {PRIORITY_URGENT: 60, PRIORITY_HIGH: 180, PRIORITY_NORMAL: 600}
ESCALATE_AT, EMPATHIZE_AT, EMPATHIZE_RELEASE, URGENT_AT = 0.8, 0.5, 0.35, 0.8
HIGH_PRIORITY_AT, MAX_FAILED_ANSWERS, PLUS_WEIGHT, CONTACT_WEIGHT = 0.9, 3, 0.1, 0.05
SELF_SERVICE_INTENTS = (INTENT_CANCEL_SUBSCRIPTION,)  # urgent-sounding, settled in the chat
FAILED_INTENTS = (INTENT_NLU_FALLBACK, INTENT_NOT_HELPFUL)  # as the facts count a failed turn

CHANNELS = {"socketio": 78, "rest": 17, "whatsapp": 4, "cmdline": 1}
# Share of conversations per first request, its usual frustration, and how often it is
# urgent (fraud, takeover, a missing delivery for today) or goes to the help center.
REQUESTS: dict[str, tuple[float, float, float, float]] = {
    #                              share, frustration, urgent, help center
    INTENT_ORDER_STATUS: (22, 0.14, 0.004, 0.2),
    INTENT_DELIVERY_PROBLEM: (14, 0.36, 0.02, 0.35),
    INTENT_BILLING_ISSUE: (10, 0.34, 0.05, 0.35),
    INTENT_REQUEST_REFUND: (10, 0.30, 0.004, 0.3),
    INTENT_RETURN_ITEM: (9, 0.14, 0.0, 0.5),
    INTENT_ACCOUNT_ACCESS: (8, 0.28, 0.1, 0.4),
    INTENT_ASK_FAQ: (8, 0.06, 0.0, 1.0),
    INTENT_CANCEL_SUBSCRIPTION: (7, 0.16, 0.03, 0.3),
    INTENT_CHANGE_ADDRESS: (5, 0.10, 0.01, 0.4),
    INTENT_COMPLAINT: (4, 0.58, 0.0, 0.1),
    INTENT_REQUEST_HUMAN: (3, 0.42, 0.02, 0.0),
}
FORM_STEPS = {  # customer turns a request's form takes (order number, email, yes/no)
    INTENT_ORDER_STATUS: (0, 0, 1, 1, 2),
    INTENT_DELIVERY_PROBLEM: (1, 2, 2, 3),
    INTENT_BILLING_ISSUE: (1, 1, 2, 3),
    INTENT_REQUEST_REFUND: (1, 2, 2, 3),
    INTENT_RETURN_ITEM: (1, 2, 2),
    INTENT_ACCOUNT_ACCESS: (1, 1, 2),
    INTENT_CANCEL_SUBSCRIPTION: (1, 1, 2),
    INTENT_CHANGE_ADDRESS: (1, 2, 2),
}
AGENTS = {
    ORDERS_SHIPPING: (
        "Maya Chen",
        "Jonas Weber",
        "Priya Nair",
        "Tom Okafor",
        "Lucia Romero",
        "Sam Patel",
        "Elif Kaya",
        "Noah Schmidt",
    ),
    BILLING: ("Grace Kim", "Omar Haddad", "Hannah Berg", "Diego Alvarez", "Aisha Bello"),
    ACCOUNT_SECURITY: ("Ravi Iyer", "Mona Lind", "Ben Carter"),
    GENERAL: ("Zoe Martin", "Kenji Sato", "Lucia Romero", "Maya Chen"),
}
WEEKDAY = (1.15, 1.06, 1.0, 1.0, 0.95, 0.72, 0.68)  # Monday first
HOURLY = (  # UTC
    *(0.16, 0.1, 0.07, 0.07, 0.09, 0.18, 0.38, 0.7, 1.0, 1.3, 1.5, 1.5),
    *(1.35, 1.3, 1.3, 1.2, 1.1, 1.05, 1.15, 1.35, 1.3, 1.0, 0.62, 0.32),
)

ITEMS = (
    "oat milk",
    "sourdough loaf",
    "coffee beans",
    "olive oil",
    "baby spinach",
    "greek yogurt",
    "dish soap",
    "avocados",
    "granola",
    "frozen berries",
    "free-range eggs",
    "basmati rice",
)
WORDS: dict[str, tuple[str, ...]] = {
    INTENT_ORDER_STATUS: (
        "where is my order {order}",
        "hi, any update on order #{order}? it was due {day}",
        "can you check the status of my order",
        "when will my order arrive",
        "tracking for {order} hasn't moved in 3 days",
        "has my order shipped yet",
        "order {order} still says processing, is that normal?",
    ),
    INTENT_DELIVERY_PROBLEM: (
        "my order {order} never arrived",
        "the package says delivered but it's not here",
        "my {item} arrived damaged",
        "half my order is missing, no {item} in the box",
        "the driver left my groceries in the rain",
        "delivery {order} came without the {item}",
        "you delivered someone else's order to me",
        "my delivery is 2 days late and the {item} has gone off",
    ),
    INTENT_BILLING_ISSUE: (
        "i was charged twice for order {order}",
        "there's a charge of {amount} i don't recognise",
        "why was i billed {amount} this month",
        "my card was charged but the order was cancelled",
        "double charged for my pantry box",
        "someone used my card on your site without my permission",
        "the promo code didn't apply and i paid {amount}",
    ),
    INTENT_REQUEST_REFUND: (
        "i want a refund for order {order}",
        "please refund the {item}, it was spoiled",
        "where is my refund? it's been 10 days",
        "can i get my money back for the missing items",
        "i'd like a refund of {amount}",
        "refund for the damaged {item} please",
    ),
    INTENT_RETURN_ITEM: (
        "how do i return the {item}",
        "i want to return part of order {order}",
        "can i send back an unopened {item}",
        "i need a return label",
        "wrong item delivered, i want to return it",
    ),
    INTENT_ACCOUNT_ACCESS: (
        "i can't log in",
        "i forgot my password",
        "the password reset email never arrives",
        "my account is locked",
        "someone changed my email and i can't get in",
        "i think my account was hacked, there are orders i didn't place",
        "the login code doesn't work",
    ),
    INTENT_CANCEL_SUBSCRIPTION: (
        "cancel my pantry box",
        "i want to cancel my subscription",
        "please stop my pantry box before the next delivery",
        "how do i cancel brightbasket plus",
        "cancel plus, i'm not using it",
    ),
    INTENT_CHANGE_ADDRESS: (
        "i need to change my delivery address",
        "can i change the address on order {order}",
        "i moved, please update my address",
        "wrong address on my order, can you fix it",
    ),
    INTENT_COMPLAINT: (
        "your service is terrible",
        "this is the third time my order is late, unacceptable",
        "really disappointed with brightbasket lately",
        "the quality of your produce has gone downhill",
        "i'm so frustrated with you guys",
        "worst delivery experience ever",
    ),
    INTENT_REQUEST_HUMAN: (
        "i want to talk to a human",
        "agent please",
        "can i speak to a real person",
        "let me talk to someone",
        "get me a person, the bot is useless",
        "customer service representative",
    ),
    INTENT_ASK_FAQ: (
        "what is your return policy",
        "how long do refunds take",
        "do you deliver on weekends",
        "what payment methods do you accept",
        "how do i use a promo code",
        "what's included in plus",
        "can i skip a pantry box delivery",
        "how does express shipping work",
    ),
    INTENT_INFORM: (
        "{order}",
        "it's order {order}",
        "order number is {order}",
        "{email}",
        "my email is {email}",
        "the {item}",
        "about {amount}",
    ),
    INTENT_AFFIRM: ("yes", "yes please", "correct", "yep", "ok", "that's right"),
    INTENT_DENY: ("no", "nope", "no that's not it", "not really"),
    INTENT_GREET: ("hi", "hello", "hey there", "good morning", "hi!"),
    INTENT_THANKS: ("thanks", "thank you!", "great, thanks", "perfect thank you", "cheers"),
    INTENT_GOODBYE: ("bye", "that's all, bye", "ok bye", "have a nice day"),
    INTENT_NOT_HELPFUL: (
        "that didn't help",
        "that's not what i asked",
        "this doesn't answer my question",
        "useless answer",
    ),
    INTENT_NLU_FALLBACK: (
        "hmm",
        "???",
        "the thing from before",
        "what about the other one",
        "asdfgh",
        "ok but what now",
    ),
}
WAITING_WORDS = ("hello?", "is anyone there", "still waiting...", "how long will this take")
AGENT_PHASE_WORDS = (
    "hi, thanks for picking this up",
    "it's order {order}",
    "yes that's the one",
    "ok, so what happens now?",
    "can you send me a confirmation by email",
    "great, thank you so much",
    "the {item} specifically",
)
COMMENTS = {
    1: (
        "waited ages and nobody helped",
        "the bot kept sending me the same article",
        "still no refund",
        "nobody answered my actual question",
    ),
    2: ("took far too long", "had to explain everything twice", "answer was not clear"),
    3: ("ok in the end", "fine but slow", "solved but i had to ask twice"),
    4: ("quick and easy", "helpful, thanks", "good, the agent was nice"),
    5: ("super fast, thank you!", "the agent was great", "easiest support chat ever"),
}
CSAT_WEIGHTS = {  # ratings 1-5 by how the conversation went
    "bot_calm": (2, 3, 10, 30, 55),
    "bot_upset": (10, 12, 22, 30, 26),
    "person": (5, 6, 14, 35, 40),
    "person_slow": (14, 14, 22, 28, 22),
    "abandoned": (42, 24, 18, 10, 6),
}
# Questions the help center has no article for, each in a few words (the knowledge gaps).
MISSED: tuple[tuple[str, ...], ...] = (
    ("do you deliver to po boxes", "can you ship to a po box?", "delivery to a po box possible"),
    ("can i choose a delivery time slot", "how do i pick a delivery slot", "choose delivery time"),
    ("can i tip my driver", "how do i tip the delivery driver", "is there a way to tip drivers"),
    ("do you have a student discount", "student discount?", "any discount for students"),
    ("are your vegetables organic", "is the produce organic", "do you sell organic vegetables"),
    (
        "which products are gluten free",
        "gluten free products list",
        "do you have gluten free bread",
    ),
    ("do you sell halal meat", "is your chicken halal", "halal meat available?"),
    ("where do your vegetables come from", "are your vegetables local", "origin of the vegetables"),
    ("can i return the insulated boxes", "do you take back the cool boxes", "recycle the cool box"),
    ("do you ship to canada", "can you deliver to canada", "shipping to canada"),
    ("is there a minimum order amount", "what is the minimum order", "minimum order value?"),
    ("do you do corporate orders", "office grocery orders for our company", "corporate accounts"),
    ("are you hiring", "how do i apply for a job", "job openings at brightbasket"),
    ("can i add a gift message", "add a gift note to my order", "gift message option"),
    ("is there an android app", "do you have an app for android", "android app download"),
    ("can i pay cash on delivery", "cash on delivery possible?", "pay in cash when it arrives"),
    ("do you accept snap ebt", "can i pay with ebt", "ebt snap benefits accepted?"),
    ("can i leave instructions for the driver", "add delivery instructions", "driver instructions"),
    ("can the driver leave it with my neighbour", "leave the parcel with a neighbour", "neighbour"),
    ("when will oat milk be back in stock", "oat milk out of stock again", "restock oat milk when"),
    ("do you price match", "will you match a competitor's price", "price matching policy"),
    (
        "does the pantry box come with recipes",
        "recipes in the pantry box?",
        "pantry box recipe cards",
    ),
    ("can i swap items in my pantry box", "change what's in the pantry box", "swap pantry items"),
    ("how long do the eggs keep", "shelf life of your eggs", "eggs expiry how long"),
    ("is the packaging plastic free", "do you use plastic packaging", "plastic free packaging?"),
    ("do you have a referral program", "refer a friend bonus", "referral code for friends"),
    ("can i change the name on my invoice", "invoice in my company name", "change invoice name"),
    ("do you deliver on public holidays", "delivery on bank holidays", "holiday delivery days"),
    ("can i pick up my order myself", "is there click and collect", "collect the order in person"),
    ("do you have a loyalty points scheme", "loyalty points?", "reward points for orders"),
    ("can i share plus with my family", "family plan for plus", "share my plus membership"),
    ("do you use my data for ads", "is my data shared with advertisers", "data used for ads"),
    ("how do i report a rude driver", "complain about a driver", "report the delivery driver"),
    ("do your products contain nuts", "nut allergy information", "allergen info for nuts"),
    ("are the eggs free range", "free range eggs?", "are your chickens free range"),
    ("can i order wine", "do you sell alcohol", "beer and wine delivery"),
    ("do you sell baby formula", "baby formula in stock?", "infant formula available"),
    ("can i set up a weekly recurring order", "repeat my order every week", "recurring order"),
    ("do you have black friday deals", "black friday sale?", "any black friday discounts"),
    ("can i donate to a food bank through you", "food bank donation", "donate groceries"),
    ("is delivery carbon neutral", "carbon footprint of delivery", "are deliveries co2 neutral"),
    ("do you have wholesale prices", "bulk buying discount", "wholesale price list"),
    ("do you deliver to my postcode", "is my area covered", "check delivery area postcode"),
    ("can i get sms notifications", "text message updates for delivery", "sms alerts for orders"),
    ("is the site available in spanish", "change language to spanish", "spanish version of site"),
    ("can i pay with bitcoin", "do you accept crypto", "bitcoin payment"),
    ("can i send groceries to my mum in another city", "order for delivery to my parents", "gift"),
    ("do you have a store i can visit", "physical shop address", "is there a brightbasket store"),
    ("does frozen food stay frozen in summer", "frozen items thaw in the heat", "frozen food"),
    ("do you sell pet food", "dog food available?", "cat food delivery"),
    ("can you deliver after 9pm", "late evening delivery", "night delivery after 9"),
    ("can i get a printed catalogue", "paper catalogue by post", "printed product catalogue"),
    ("do you have vegan meal kits", "vegan meal kit?", "plant based meal kits"),
    ("can i merge two accounts", "combine my two accounts", "merge accounts"),
    ("can i order without an account", "guest checkout possible", "order as a guest"),
    ("why are prices higher than last month", "prices went up", "why did the prices increase"),
    ("can i reuse the paper bags", "return the paper bags", "bring back the bags"),
    ("is the fish sustainably caught", "sustainable fish?", "msc certified fish"),
    ("can i get a receipt without prices for a gift", "gift receipt", "receipt without prices"),
    ("do you check id for energy drinks", "age check energy drinks", "id check on delivery"),
)

Progress = Callable[[int, int], None]


class SeedError(Exception):
    """The seeding cannot go ahead; the message says why and what to do."""


# --- the rows -----------------------------------------------------------------------------
def plan(conversations: int, days: int, seed: int, now: float) -> tuple[np.ndarray, np.ndarray]:
    """Start times (ascending) and customer numbers of `conversations` conversations."""
    rng = np.random.default_rng(seed)
    first = now - days * DAY
    day0 = math.floor(first / DAY) * DAY
    spread = days + 1
    weekday0 = (int(day0 // DAY) + 3) % 7  # 1970-01-01 was a Thursday
    per_day = np.array(
        [WEEKDAY[(weekday0 + d) % 7] * (1 + 0.25 * d / spread) for d in range(spread)]
    )
    hours = np.array(HOURLY)
    found: list[np.ndarray] = []
    total = 0
    while total < conversations:
        m = int((conversations - total) * 1.2) + 32
        starts = (
            day0
            + rng.choice(spread, m, p=per_day / per_day.sum()) * DAY
            + rng.choice(24, m, p=hours / hours.sum()) * 3600
            + rng.random(m) * 3600
        )
        starts = starts[(starts >= first) & (starts < now - 60)]
        found.append(starts)
        total += len(starts)
    started = np.sort(np.concatenate(found)[:conversations])
    # Customers: a few come often, most once; and some come back soon after a contact
    # (it was not solved), which is what repeat contacts are made of.
    people = max(1, int(conversations * 1.3))
    propensity = np.minimum(rng.lognormal(0.0, 0.8, people), 8.0)
    customer = rng.choice(people, conversations, p=propensity / propensity.sum())
    follow_up = np.flatnonzero(rng.random(conversations) < 0.1)
    earlier = np.searchsorted(
        started, started[follow_up] - rng.uniform(3600, 6 * DAY, len(follow_up))
    )
    keep = earlier < follow_up
    customer[follow_up[keep]] = customer[earlier[keep]]
    return started, customer


@dataclass(frozen=True)
class _Turn:
    intent: str
    t: float
    urgency: float


class _Conversation:
    """One synthetic conversation, turn by turn, as the assistant would have run it."""

    def __init__(
        self,
        r: random.Random,
        f: ConversationFacts,
        plus: bool,
        contacts_7d: int,
    ) -> None:
        self.r, self.f, self.plus, self.contacts = r, f, plus, contacts_7d
        self.turns: list[_Turn] = []
        self.t = f.started_at + r.uniform(1, 8)
        self.level = 0.0  # running frustration level (as nlu.distress weighs it)
        self.failures = 0
        self.empathetic = False

    # --- words and scores -----------------------------------------------------------
    def words(self, template: str) -> str:
        r = self.r
        return template.format(
            order=r.randint(10000, 99999),
            amount=f"${r.randint(5, 180)}.{r.randint(0, 99):02d}",
            item=r.choice(ITEMS),
            email=f"{r.choice(('ana', 'j.smith', 'mike', 'lee', 'sara.k'))}{r.randint(1, 99)}"
            "@example.com",
            day=r.choice(("yesterday", "on monday", "today", "last week")),
        )

    def say(
        self,
        intent: str,
        text: str | None,
        frustration: float,
        urgency: float | None = None,
        gap: float = 22.0,
    ) -> _Turn:
        """One customer turn, about `gap` seconds after the last; `text` None is a button
        click (a payload: no words, no emotion scores)."""
        r = self.r
        if self.turns:
            self.t += r.lognormvariate(math.log(gap), 0.6)
        frustration = min(0.99, max(0.0, frustration))
        if urgency is None:
            urgency = min(0.6, r.betavariate(1.2, 9.0))
        failed = intent in FAILED_INTENTS
        turn = _Turn(intent, self.t, urgency)
        self.turns.append(turn)
        f = self.f
        f.turns += 1
        f.intents[intent] = f.intents.get(intent, 0) + 1
        if f.first_intent is None and intent not in SMALL_TALK_INTENTS:
            f.first_intent = intent
        f.last_turn_failed = failed
        if text is not None:
            f.customer_text = f"{f.customer_text}\n{text}" if f.customer_text else text
            negative = min(0.99, max(0.01, 0.1 + 0.8 * frustration + r.gauss(0, 0.06)))
            f.trajectory.append(
                [round(self.t, 3), round(frustration, 4), round(urgency, 4), round(negative, 4)]
            )
            f.frustration_peak = max(f.frustration_peak, round(frustration, 4))
            f.frustration_sum += round(frustration, 4)
            f.urgency_peak = max(f.urgency_peak, round(urgency, 4))
            self.level = (
                frustration if len(f.trajectory) == 1 else 0.6 * frustration + 0.4 * self.level
            )
        if failed:
            self.failures += 1
        return turn

    def room(self) -> bool:
        return len(self.turns) < MAX_TURNS

    # --- routing ----------------------------------------------------------------------
    def distress(self) -> tuple[float, list[str]]:
        """The policy's distress estimate and reasons (a cheap `nlu.distress` look-alike)."""
        points = [p[1] for p in self.f.trajectory[-5:]]
        rising = 0
        for older, newer in zip(reversed(points[:-1]), reversed(points[1:]), strict=False):
            if newer > older + 0.02:
                rising += 1
            else:
                break
        failures = min(self.failures, 5)
        score = 1 - (1 - self.level) * (1 - 0.12 * rising) * 0.85**failures
        reasons = []
        if self.level >= 0.5:
            reasons.append(f"frustration {self.level:.2f}")
        if rising >= 2:
            reasons.append(f"rising over {rising + 1} turns")
        if failures:
            reasons.append(f"{failures} failed answer{'s' if failures > 1 else ''}")
        score = 1 - (1 - score) * (1 - (PLUS_WEIGHT if self.plus else 0.0)) * (
            1 - CONTACT_WEIGHT
        ) ** max(0, self.contacts - 1)
        if self.plus:
            reasons.append("plus customer")
        if self.contacts > 1:
            reasons.append(f"{self.contacts} contacts in 7 days")
        return min(1.0, score), reasons

    def route(self) -> bool:
        """After a customer turn: continue, empathize or escalate; True when escalated."""
        turn = self.turns[-1]
        score, reasons = self.distress()
        f = self.f
        f.distress_max = max(f.distress_max, round(score, 4))
        urgent = turn.urgency >= URGENT_AT and turn.intent not in SELF_SERVICE_INTENTS

        def priority() -> str:
            return PRIORITY_HIGH if score >= HIGH_PRIORITY_AT or self.plus else PRIORITY_NORMAL

        why, level = "", ""
        if turn.intent == INTENT_REQUEST_HUMAN:
            why, level = "asked for a person", PRIORITY_URGENT if urgent else priority()
        elif urgent:
            why, level = f"urgent request (urgency {turn.urgency:.2f})", PRIORITY_URGENT
        elif score >= ESCALATE_AT and len(f.trajectory) >= 2:
            why, level = f"distress {score:.2f}", PRIORITY_HIGH
        elif self.failures >= MAX_FAILED_ANSWERS:
            why, level = f"{min(self.failures, 5)} failed answers", priority()
        if why:
            queue = self.queue()
            f.decisions.append(
                {
                    "t": round(turn.t, 3),
                    "action": ROUTE_ESCALATE,
                    "distress": round(score, 4),
                    "reasons": [why, *reasons],
                    "priority": level,
                    "queue": queue,
                }
            )
            f.escalated = True
            f.escalation_reason = "; ".join([why, *reasons])
            f.queue, f.priority = queue, level
            f.wait_target_seconds = WAIT_TARGET_SECONDS[level]
            return True
        if score >= (EMPATHIZE_RELEASE if self.empathetic else EMPATHIZE_AT):
            self.empathetic = True
            f.decisions.append(
                {
                    "t": round(turn.t, 3),
                    "action": ROUTE_EMPATHIZE,
                    "distress": round(score, 4),
                    "reasons": [f"distress {score:.2f}", *reasons],
                    "priority": None,
                    "queue": None,
                }
            )
        else:
            self.empathetic = False
        return False

    def queue(self) -> str:
        for turn in reversed(self.turns):
            if turn.intent in QUEUE_OF_INTENT:
                return QUEUE_OF_INTENT[turn.intent]
        return GENERAL

    # --- the story --------------------------------------------------------------------
    def run(self, request: str) -> None:
        r = self.r
        _, calm, urgent_share, kb_share = REQUESTS[request]
        base = r.gauss(calm, 0.13)
        if r.random() < 0.07:  # upset before the first word (third late delivery, …)
            base += r.uniform(0.25, 0.5)
        base = min(0.97, max(0.01, base))
        if r.random() < 0.3:
            self.say(INTENT_GREET, r.choice(WORDS[INTENT_GREET]), base * 0.4, gap=8)
            if self.route():
                return self.handoff()
        urgency = r.uniform(0.81, 0.98) if r.random() < urgent_share else None
        self.say(request, self.words(r.choice(WORDS[request])), base, urgency)
        if self.route():
            return self.handoff()
        feeling = base
        for _ in range(r.choice(FORM_STEPS.get(request, (0,)))):
            if not self.room():
                break
            if r.random() < 0.07:  # the bot did not understand
                feeling += r.uniform(0.08, 0.2)
                self.say(INTENT_NLU_FALLBACK, r.choice(WORDS[INTENT_NLU_FALLBACK]), feeling)
            elif r.random() < 0.35:
                self.say(
                    INTENT_AFFIRM,
                    r.choice(WORDS[INTENT_AFFIRM]) if r.random() < 0.5 else None,
                    feeling * 0.9,
                )
            else:
                self.say(INTENT_INFORM, self.words(r.choice(WORDS[INTENT_INFORM])), feeling)
            if self.route():
                return self.handoff()
            feeling = self.after_failure(feeling)
            if self.f.escalated:
                return self.handoff()
        if r.random() < kb_share:
            for _ in range(r.choices((1, 2, 3), (70, 22, 8))[0]):
                if not self.room():
                    break
                feeling = self.ask_help_center(request, feeling)
                if self.f.escalated:
                    return self.handoff()
        if self.room() and not self.f.last_turn_failed and r.random() < 0.12:
            # It went wrong after all ("that's not what i asked"), and the customer says so.
            feeling += r.uniform(0.1, 0.3)
            self.say(INTENT_NOT_HELPFUL, r.choice(WORDS[INTENT_NOT_HELPFUL]), feeling)
            if self.route():
                return self.handoff()
            self.after_failure(feeling)
            if self.f.escalated:
                return self.handoff()
        self.ending(feeling)

    def ask_help_center(self, request: str, feeling: float) -> float:
        r, f = self.r, self.f
        miss = r.random() < (0.3 if request == INTENT_ASK_FAQ else 0.2)
        if miss:
            group = MISSED[min(len(MISSED) - 1, int(len(MISSED) * r.random() ** 1.6))]
            question = r.choice(group)
            if r.random() < 0.3:
                question = question.capitalize() + r.choice(("?", "??", "", " please"))
        else:
            question = r.choice(WORDS[INTENT_ASK_FAQ])
        self.say(INTENT_ASK_FAQ, question, feeling)
        helped = not miss and r.random() > 0.12
        if not miss:
            f.kb_answered += 1
        if not helped:  # no confident passage, or "that didn't help" clicked
            f.kb_missed += 1
            f.last_turn_failed = True
            self.failures += 1
            if question not in f.missed_questions and len(f.missed_questions) < MAX_MISSED:
                f.missed_questions.append(question)
            if not miss and self.room():
                self.say(INTENT_NOT_HELPFUL, None, feeling, gap=6)
        if self.route():
            return feeling
        if not helped:
            feeling = self.after_failure(feeling + r.uniform(0.08, 0.22))
        return max(0.02, feeling - (0 if not helped else r.uniform(0.02, 0.1)))

    def after_failure(self, feeling: float) -> float:
        """After a failed answer the customer may ask for a person."""
        r = self.r
        if self.f.last_turn_failed and self.room() and r.random() < 0.2 + 0.5 * feeling:
            self.say(
                INTENT_REQUEST_HUMAN,
                r.choice(WORDS[INTENT_REQUEST_HUMAN]),
                feeling + r.uniform(0.0, 0.15),
            )
            self.route()
        return feeling

    def ending(self, feeling: float) -> None:
        r = self.r
        if self.f.last_turn_failed and r.random() < 0.75:
            return  # left unhelped
        if self.room() and r.random() < 0.55:
            self.say(INTENT_THANKS, r.choice(WORDS[INTENT_THANKS]), feeling * 0.4, gap=15)
            if self.route():
                return self.handoff()
        if self.room() and r.random() < 0.3:
            self.say(INTENT_GOODBYE, r.choice(WORDS[INTENT_GOODBYE]), feeling * 0.3, gap=8)
            if self.route():
                return self.handoff()

    def handoff(self) -> None:
        r, f = self.r, self.f
        assert f.priority is not None and f.queue is not None
        f.handoff_at = round(self.t + r.uniform(0.2, 1.5), 3)
        f.handoff_status = HANDOFF_WAITING
        hour = datetime.fromtimestamp(f.handoff_at, timezone.utc).hour
        night = 1.8 if hour < 7 or hour >= 22 else 1.0  # fewer agents on shift
        typical = {PRIORITY_URGENT: 30, PRIORITY_HIGH: 95, PRIORITY_NORMAL: 290}[f.priority]
        wait = min(3 * 3600, r.lognormvariate(math.log(typical * night), 0.75))
        patience = r.lognormvariate(math.log(1500), 0.9)
        feeling = self.level
        if wait > 120 and self.room() and r.random() < 0.35:
            self.t = f.handoff_at + min(wait, patience) * r.uniform(0.3, 0.9)
            self.say(INTENT_GREET, r.choice(WAITING_WORDS), feeling + 0.15, gap=1)
        if patience < wait:  # the customer left before anyone came
            return
        f.claimed_at = round(f.handoff_at + wait, 3)
        f.seconds_to_claim = round(wait, 3)
        f.handoff_status = HANDOFF_CLAIMED
        f.agent = r.choice(AGENTS[f.queue])
        f.first_agent_reply_at = round(f.claimed_at + r.lognormvariate(math.log(25), 0.6), 3)
        f.seconds_to_first_reply = round(f.first_agent_reply_at - f.claimed_at, 3)
        self.t = max(self.t, f.first_agent_reply_at)
        feeling = max(0.05, feeling - r.uniform(0.1, 0.3))
        for _ in range(r.choice((0, 1, 1, 2, 2, 3))):
            if not self.room():
                break
            self.say(INTENT_INFORM, self.words(r.choice(AGENT_PHASE_WORDS)), feeling, gap=50)
            feeling = max(0.02, feeling - r.uniform(0.05, 0.15))
        ends = r.random()
        if ends < 0.07:  # still held when the customer went quiet
            return
        handling = max(
            self.t - f.claimed_at + r.uniform(20, 90),
            min(4 * 3600, r.lognormvariate(math.log(420), 0.7)),
        )
        f.handoff_closed_at = round(f.claimed_at + handling, 3)
        f.handling_seconds = round(f.handoff_closed_at - f.claimed_at, 3)
        self.t = f.handoff_closed_at
        if ends < 0.13:  # handed back to the bot, which takes it from there
            f.handoff_status = HANDOFF_HANDED_BACK
            if self.room() and r.random() < 0.6:
                self.say(INTENT_THANKS, r.choice(WORDS[INTENT_THANKS]), feeling * 0.5, gap=20)
            return
        f.handoff_status = HANDOFF_RESOLVED
        f.closed_at = f.handoff_closed_at

    def finish(self) -> ConversationFacts:
        r, f = self.r, self.f
        f.last_event_at = round(max(self.t, f.handoff_closed_at or 0.0), 3)
        f.frustration_sum = round(f.frustration_sum, 4)
        f.outcome = f._outcome()  # the facts' own rule
        # The rating question at the end: after a goodbye, an agent's resolve, or, now and
        # then, as the customer drifts off.
        if f.outcome == OUTCOME_PERSON:
            asked, answers = 0.9, 0.38
        elif f.outcome == OUTCOME_ABANDONED:
            asked, answers = 0.15, 0.18
        else:
            said_bye = f.intents.get(INTENT_THANKS) or f.intents.get(INTENT_GOODBYE)
            asked, answers = (0.75 if said_bye else 0.3), 0.3
        if r.random() < asked:
            f.csat_asked = True
            f.last_event_at = round(f.last_event_at + r.uniform(1, 4), 3)
            if r.random() < answers:
                if f.outcome == OUTCOME_PERSON:
                    slow = (f.seconds_to_claim or 0) > (f.wait_target_seconds or 0)
                    kind = "person_slow" if slow else "person"
                elif f.outcome == OUTCOME_ABANDONED:
                    kind = "abandoned"
                else:
                    kind = "bot_upset" if f.frustration_peak >= 0.5 else "bot_calm"
                f.csat = r.choices((1, 2, 3, 4, 5), CSAT_WEIGHTS[kind])[0]
                f.last_event_at = round(f.last_event_at + r.uniform(5, 60), 3)
                f.closed_at = f.closed_at or f.last_event_at
                if r.random() < 0.35:
                    f.csat_comment = r.choice(COMMENTS[f.csat])
                    f.last_event_at = round(f.last_event_at + r.uniform(10, 60), 3)
        return f


def conversation(
    r: random.Random,
    sender_id: str,
    started_at: float,
    customer: str | None,
    plus: bool = False,
    contacts_7d: int = 1,
) -> ConversationFacts:
    """One realistic conversation's facts, drawn with `r`."""
    channel = r.choices(tuple(CHANNELS), tuple(CHANNELS.values()))[0]
    if channel == "rest" and r.random() < 0.15:
        customer = None  # an API client that sends no customer key
    request = r.choices(tuple(REQUESTS), tuple(v[0] for v in REQUESTS.values()))[0]
    f = ConversationFacts(
        sender_id=sender_id,
        session=1,
        started_at=round(started_at, 3),
        channel=channel,
        customer=customer,
        last_event_at=started_at,
    )
    story = _Conversation(r, f, plus, contacts_7d)
    story.run(request)
    return story.finish()


def _shift(f: ConversationFacts, seconds: float) -> None:
    """Move a conversation earlier by `seconds` (one that would end in the future)."""
    for name in (
        "started_at",
        "last_event_at",
        "closed_at",
        "handoff_at",
        "claimed_at",
        "first_agent_reply_at",
        "handoff_closed_at",
    ):
        value = getattr(f, name)
        if value is not None:
            setattr(f, name, round(value - seconds, 3))
    for point in f.trajectory:
        point[0] = round(point[0] - seconds, 3)
    for decision in f.decisions:
        decision["t"] = round(decision["t"] - seconds, 3)


def generate(
    conversations: int, days: int = 90, seed: int = 7, now: float | None = None
) -> Iterator[ConversationFacts]:
    """The conversations, oldest first, with repeat contacts marked. A conversation is
    yielded once no later one can make it a repeat contact (7 days after it started)."""
    now = time.time() if now is None else now
    started, customers = plan(conversations, days, seed, now)
    r = random.Random(seed)
    key = f"insights.seed:{seed}".encode()
    plus_of: dict[int, bool] = {}
    recent: dict[str, deque[float]] = {}  # customer: start times in the last 7 days
    latest: dict[str, ConversationFacts] = {}
    pending: deque[ConversationFacts] = deque()
    horizon = REPEAT_CONTACT_SECONDS + DAY  # conversations last well under a day
    for i in range(conversations):
        number = int(customers[i])
        customer = pseudonym(key, f"customer:{number}")
        plus = plus_of.setdefault(number, r.random() < 0.14)
        start = float(started[i])
        times = recent.setdefault(customer, deque())
        while times and times[0] < start - REPEAT_CONTACT_SECONDS:
            times.popleft()
        f = conversation(r, f"{PREFIX}{seed}-{i}", start, customer, plus, len(times) + 1)
        if f.last_event_at > now:
            _shift(f, f.last_event_at - now + r.uniform(1, 30))
        if f.customer is not None:
            times.append(f.started_at)
            before = latest.get(f.customer)
            if (
                before is not None
                and before.started_at <= f.started_at
                and before.last_event_at >= f.started_at - REPEAT_CONTACT_SECONDS
            ):
                before.repeat_contact = True
            latest[f.customer] = f
        pending.append(f)
        while pending and pending[0].started_at < start - horizon:
            done = pending.popleft()
            if done.customer is not None and latest.get(done.customer) is done:
                del latest[done.customer]
            yield done
    yield from pending


# --- the database ---------------------------------------------------------------------------
def seeded(db: Database, seed: int | None = None) -> int:
    """How many seeded conversations the database holds (of one `seed`, or of any)."""
    prefix = PREFIX if seed is None else f"{PREFIX}{seed}-"
    with db.begin() as c:
        return int(
            c.execute(
                sa.select(sa.func.count()).where(facts.c.sender_id.startswith(prefix))
            ).scalar_one()
        )


def seed_conversations(
    db: Database,
    conversations: int,
    days: int = 90,
    seed: int = 7,
    now: float | None = None,
    progress: Progress | None = None,
) -> int:
    """Insert `conversations` synthetic conversations; returns how many were inserted.

    Example: `seed_conversations(Database("sqlite:///data/store.db", metadata), 1000)`."""
    if conversations < 1:
        raise SeedError(f"--conversations must be at least 1, not {conversations}.")
    if days < 1:
        raise SeedError(f"--days must be at least 1, not {days}.")
    if seeded(db, seed):
        raise SeedError(
            f"The database already holds conversations seeded with --seed {seed}. Add "
            "--reset to replace the seeded conversations, or pick another --seed."
        )
    done = 0
    batch: list[dict[str, object]] = []
    for f in generate(conversations, days, seed, now):
        batch.append(f.row())
        if len(batch) >= BATCH:
            done += _insert(db, batch)
            batch = []
            if progress:
                progress(done, conversations)
    if batch:
        done += _insert(db, batch)
        if progress:
            progress(done, conversations)
    return done


def _insert(db: Database, rows: list[dict[str, object]]) -> int:
    with db.begin() as c:
        c.execute(sa.insert(facts), rows)
    return len(rows)


def reset(db: Database) -> int:
    """Delete every seeded conversation and its annotations; returns how many."""
    ids = sa.select(facts.c.id).where(facts.c.sender_id.startswith(PREFIX)).scalar_subquery()
    with db.begin() as c:
        c.execute(sa.delete(lead_annotations).where(lead_annotations.c.conversation.in_(ids)))
        return int(c.execute(sa.delete(facts).where(facts.c.sender_id.startswith(PREFIX))).rowcount)


class ProgressBar:
    """A progress line on stderr: `seeding [#####.....] 50,000/100,000 50% 12.1 s`."""

    WIDTH = 30

    def __init__(self, label: str = "seeding", stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * self.WIDTH)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{done:,}/{total:,} {share:4.0%} {time.perf_counter() - self.started:5.1f} s"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m insights.seed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--conversations", type=int, default=0, help="how many to add")
    parser.add_argument("--days", type=int, default=90, help="spread over the last N days")
    parser.add_argument("--url", help="database URL (default: STORE_URL, the store database)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same rows)")
    parser.add_argument(
        "--reset", action="store_true", help="first delete every seeded conversation"
    )
    args = parser.parse_args(argv)
    if not args.conversations and not args.reset:
        parser.error("nothing to do: give --conversations N, --reset, or both")
    if args.conversations < 0 or args.days < 1:
        parser.error("--conversations and --days must be positive")
    url = args.url
    if url is None:
        from core.settings import Settings

        url = Settings.load().store_url
    db = Database(url, metadata)
    try:
        if args.reset:
            print(f"Deleted {reset(db):,} seeded conversations.", file=sys.stderr)
        if args.conversations:
            started = time.perf_counter()
            try:
                n = seed_conversations(
                    db, args.conversations, args.days, args.seed, progress=ProgressBar()
                )
            except SeedError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            print(
                f"Seeded {n:,} conversations over {args.days} days in "
                f"{time.perf_counter() - started:.1f} s.",
                file=sys.stderr,
            )
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
