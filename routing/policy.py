"""`RoutingPolicy`: the routing decision as a Rasa dialogue policy.

After every customer message the policy reads the conversation (emotion scores in each
user turn's parse data, failed answers, intents) and the customer's tier and recent
contacts from slots, calls `routing.decide`, and stores the decision in the
`routing_decision` slot, so every decision is explainable afterwards from the tracker.

- escalate: it predicts `action_contact_human` with confidence 1 and a priority above
  the RulePolicy's, so the handoff wins over any rule, and over an active form: the
  action deactivates the form, tells the customer a person is coming, and the bot goes
  silent;
- empathize: it sets the `tone` slot to "empathetic" (kept until distress falls below
  the release threshold) and leaves the next action to the other policies, whose
  responses have empathetic variants;
- after a rating (`action_record_csat` asks for an optional comment), the customer's
  next typed message is the comment: `action_record_csat_comment` records it, unless the
  classifier is sure it is a rating or a new request (those go on as usual);
- while a person holds the conversation (`handoff_status` waiting or claimed) it keeps
  the bot silent: each customer message goes to `action_relay_to_agent`, then the bot
  listens.

Thresholds and weights are the policy's options in config.yml (see `RoutingConfig`).
Nothing is learned, so training only records the configuration.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from core.constants import (
    ACTION_ANSWER_FROM_HELP_CENTER,
    ACTION_CONTACT_HUMAN,
    ACTION_HELP_CENTER_NOT_HELPFUL,
    ACTION_RECORD_CSAT,
    ACTION_RECORD_CSAT_COMMENT,
    ACTION_RELAY_TO_AGENT,
    INTENT_ACCOUNT_ACCESS,
    INTENT_ASK_FAQ,
    INTENT_BILLING_ISSUE,
    INTENT_CANCEL_SUBSCRIPTION,
    INTENT_CHANGE_ADDRESS,
    INTENT_DELIVERY_PROBLEM,
    INTENT_ORDER_STATUS,
    INTENT_RATE,
    INTENT_REQUEST_HUMAN,
    INTENT_REQUEST_REFUND,
    INTENT_RETURN_ITEM,
    SILENT_STATUSES,
    SLOT_CONTACTS_7D,
    SLOT_CSAT_SCORE,
    SLOT_CUSTOMER_TIER,
    SLOT_HANDOFF_STATUS,
    SLOT_KB_ARTICLE,
    SLOT_KB_OUTCOME,
    SLOT_ROUTING_DECISION,
    SLOT_TONE,
    TONE_EMPATHETIC,
)
from core.conversation import FAILED_ACTIONS, Conversation, Turn
from routing.decision import EMPATHIZE, ESCALATE, Customer, Decision, RoutingConfig, decide

logger = logging.getLogger(__name__)

POLICY_PRIORITY = 7  # above RulePolicy (6): a handoff or the silence wins over any rule
CONFIG_FILE = "routing.json"
# Slots that change how turns are read: a failed answer, or where the current part starts.
TURN_SLOTS = frozenset({SLOT_KB_OUTCOME, SLOT_KB_ARTICLE, SLOT_HANDOFF_STATUS})
# Actions whose answer may fail (help-center miss, rejected answer, not understood).
ANSWERING_ACTIONS = frozenset(
    {ACTION_ANSWER_FROM_HELP_CENTER, ACTION_HELP_CENTER_NOT_HELPFUL, *FAILED_ACTIONS}
)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class RoutingPolicy(Policy):
    """Escalate, soften the tone, or stay silent while a person holds the conversation."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": POLICY_PRIORITY}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        try:
            self.routing = RoutingConfig.from_policy_options(config)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"RoutingPolicy in config.yml: {e} Fix the policy's options and retrain."
            ) from e

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        with self._model_storage.write_to(self._resource) as path:
            (path / CONFIG_FILE).write_text(json.dumps({"priority": self.priority}))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RoutingPolicy:
        return cls(config, model_storage, resource, execution_context)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        abstain = self._default_predictions(domain)
        last = _last_step(tracker)
        held = tracker.get_slot(SLOT_HANDOFF_STATUS) in SILENT_STATUSES

        if isinstance(last, UserUttered):
            if held:
                return self._predict(domain, ACTION_RELAY_TO_AGENT)
            decision = self.decide(tracker)
            events = [SlotSet(SLOT_ROUTING_DECISION, decision.as_dict())]
            empathetic = decision.action == EMPATHIZE
            if empathetic != (tracker.get_slot(SLOT_TONE) == TONE_EMPATHETIC):
                events.append(SlotSet(SLOT_TONE, TONE_EMPATHETIC if empathetic else None))
            if awaits_rating_comment(tracker, last):
                # Feedback on a finished conversation ("the agent was nice but it took
                # three tries to get anyone") is kept, not read as a new request.
                return self._predict(domain, ACTION_RECORD_CSAT_COMMENT, events)
            if decision.action == ESCALATE:
                return self._predict(domain, ACTION_CONTACT_HUMAN, events)
            return self._prediction(abstain, events=events)

        if isinstance(last, ActionExecuted) and last.action_name in (
            ACTION_RELAY_TO_AGENT,
            ACTION_CONTACT_HUMAN,
            ACTION_RECORD_CSAT_COMMENT,
        ):
            return self._predict(domain, ACTION_LISTEN_NAME)
        if isinstance(last, ActionExecuted) and last.action_name in ANSWERING_ACTIONS and not held:
            # The answer just given may be the failure that reaches `max_failed_answers`
            # (a help-center miss, a rejected answer, a fallback): hand over now, not only
            # after the customer has had to write once more.
            decision = self.decide(tracker)
            if decision.action == ESCALATE:
                events = [SlotSet(SLOT_ROUTING_DECISION, decision.as_dict())]
                return self._predict(domain, ACTION_CONTACT_HUMAN, events)
        return self._prediction(abstain)

    def decide(self, tracker: DialogueStateTracker) -> Decision:
        """The decision after the latest customer message of `tracker`."""
        conversation = current_conversation(tracker)
        turns = conversation.current
        failed = sum(t.failed for t in conversation.turns[conversation.current_from :])
        contacts = tracker.get_slot(SLOT_CONTACTS_7D)
        customer = Customer(
            tier=str(tracker.get_slot(SLOT_CUSTOMER_TIER) or "standard"),
            contacts_7d=int(contacts) if isinstance(contacts, (int, float)) else 0,
        )
        empathetic = tracker.get_slot(SLOT_TONE) == TONE_EMPATHETIC
        last = conversation.last  # typed or clicked: the "Talk to a person" button counts
        asked = last is not None and last.intent == INTENT_REQUEST_HUMAN
        return decide(
            turns,
            customer,
            empathetic,
            self.routing,
            failed_answers=failed,
            asked_for_person=asked,
            active_form=tracker.active_loop_name,
        )

    def _predict(
        self, domain: Domain, action: str, events: list[Any] | None = None
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        # Marked as not based on user input, like RulePolicy's prediction of an active
        # form's next step: Rasa lets such predictions overrule all others, so without the
        # mark a form in progress would keep asking its question after a decision to hand
        # over. Among them, this policy's priority (7) beats RulePolicy's (6).
        return self._prediction(probabilities, events=events or [], is_no_user_prediction=True)


def conversation_turns(tracker: DialogueStateTracker) -> list[Turn]:
    """Typed customer turns of the current session since the last handoff ended (a
    handed-back conversation starts afresh: what a person already dealt with does not
    count again)."""
    return current_conversation(tracker).current


def current_conversation(tracker: DialogueStateTracker) -> Conversation:
    """The current session's turns, read by `Conversation`. Runs on every customer
    message, so only the events the turns depend on are turned into dicts (forms, actions
    and other slots are left out)."""
    relevant: list[dict[str, Any]] = []
    for event in reversed(tracker.events):
        if (
            isinstance(event, (UserUttered, BotUttered))  # bot: the buttons a label matches
            or (isinstance(event, SlotSet) and event.key in TURN_SLOTS)
            or (isinstance(event, ActionExecuted) and event.action_name in FAILED_ACTIONS)
        ):
            relevant.append(event.as_dict())
        elif isinstance(event, SessionStarted):
            relevant.append(event.as_dict())
            break
    relevant.reverse()
    return Conversation.from_events(relevant)


# A new request or a rating after "anything to add?" is that, not a comment, when the
# intent classifier is sure of it: feedback about the last conversation often sounds
# like a request ("it took three tries to get a person" reads as request_human, 0.77).
SURE_REQUEST = 0.85
NOT_A_COMMENT = frozenset(
    {
        INTENT_RATE,
        INTENT_ORDER_STATUS,
        INTENT_DELIVERY_PROBLEM,
        INTENT_REQUEST_REFUND,
        INTENT_RETURN_ITEM,
        INTENT_CANCEL_SUBSCRIPTION,
        INTENT_BILLING_ISSUE,
        INTENT_ACCOUNT_ACCESS,
        INTENT_CHANGE_ADDRESS,
        INTENT_ASK_FAQ,
        INTENT_REQUEST_HUMAN,
    }
)


def _last_step(tracker: DialogueStateTracker) -> ActionExecuted | UserUttered | None:
    for event in reversed(tracker.events):
        if isinstance(event, (ActionExecuted, UserUttered)):
            return event
    return None


def awaits_rating_comment(tracker: DialogueStateTracker, message: UserUttered) -> bool:
    """Whether `message`, typed (not a button), answers the rating's "anything to add?":
    the last action before it recorded a rating (set `csat_score`; not when it asked
    again for 1 to 5), and the message is not a rating or a new request."""
    if (message.text or "").startswith("/"):
        return False
    confidence = float((message.intent or {}).get("confidence") or 0.0)
    if message.intent_name in NOT_A_COMMENT and confidence >= SURE_REQUEST:
        return False
    rated = False
    for event in reversed(tracker.events):
        if event is message:
            continue
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, SlotSet) and event.key == SLOT_CSAT_SCORE:
            rated = event.value is not None
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return rated and event.action_name == ACTION_RECORD_CSAT
    return False
