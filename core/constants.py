"""Names shared by `bot/`, `nlu/`, `knowledge/` and `routing/`.

Every message, slot, entity, intent, action and metadata key the packages exchange is
named here once, and so is every value with a meaning across packages (help-center
outcomes, routing actions, priorities, handoff statuses). The domain (`bot/domain.yml`)
uses the same strings; a test checks that the two agree.
"""

from __future__ import annotations

# --- Keys in a message's parse data (written by NLU components, stored with each
# --- user turn in the tracker store) -------------------------------------------
EMOTION = "emotion"  # nlu: {"sentiment": {...}, "frustration": float, "urgency": float}
# nlu: the same, of the message read with the previous message and the reply before it
EMOTION_IN_CONTEXT = "emotion_in_context"
KNOWLEDGE = "knowledge"  # knowledge: help-center hits for the message

# --- Keys in a user message's channel metadata ------------------------------------
METADATA_CUSTOMER_ID = "customer_id"  # stable id of the customer across chat sessions
METADATA_CUSTOMER_NAME = "customer_name"  # optional display name from the channel
# Set by the channels only: a client that sends these keys has them removed.
METADATA_IDENTITY_TOKEN = "identity_token"  # the host website's signed token (read, dropped)
METADATA_IDENTITY_VERIFIED = "identity_verified"  # True: customer_id comes from that token
# How a messaging channel knows the customer (IDENTITY_PROOFS); absent: the website's token.
METADATA_IDENTITY_PROOF = "identity_proof"
# The ids of the messages one merged turn answers (bot.channels.coalescer): a message
# sent again with one of them is answered from the stored turn (bot.replayed_turns).
METADATA_MESSAGE_IDS = "message_ids"
MERGE_SEPARATOR = "\n"  # between the texts of messages merged into one turn
PROOF_PHONE = "phone"  # the SMS or WhatsApp sender's number, as the platform signed it
SESSION_STARTED_METADATA = "session_started_metadata"  # Rasa's built-in slot

# --- Messaging channels (bot.channels): Rasa's input channel names, kept so that an
# --- existing platform set-up (webhook paths, credentials.yml keys) keeps working ------
CHANNEL_WEB_CHAT = "socketio"  # the web chat (bot.channels.socketio)
CHANNEL_TELEGRAM = "telegram"
CHANNEL_SLACK = "slack"
CHANNEL_TWILIO = "twilio"  # SMS and WhatsApp
CHANNEL_MESSENGER = "facebook"
MESSAGING_CHANNELS = (CHANNEL_TELEGRAM, CHANNEL_SLACK, CHANNEL_TWILIO, CHANNEL_MESSENGER)
# What the console and the reports call a conversation's channel: Twilio's WhatsApp
# conversations ("twilio-whatsapp:+1555…") apart from its SMS ones.
CHANNEL_LABEL_WHATSAPP = "whatsapp"
CHANNEL_LABEL_SMS = "sms"
WHATSAPP_SENDER_PREFIX = "twilio-whatsapp:"


# --- Slots ------------------------------------------------------------------------
SLOT_CUSTOMER_KEY = "customer_key"  # stable customer id (metadata, else sender id)
SLOT_CUSTOMER_ID = "customer_id"  # id in the store once the customer is verified
SLOT_CUSTOMER_NAME = "customer_name"
SLOT_ORDER_NUMBER = "order_number"
SLOT_EMAIL = "email"
SLOT_AMOUNT = "amount"
SLOT_ISSUE_TYPE = "issue_type"
SLOT_PLAN = "plan"
SLOT_REQUEST_TYPE = "request_type"  # "refund" or "return"
SLOT_REFUND_REASON = "refund_reason"
SLOT_NEW_ADDRESS = "new_address"
SLOT_CONFIRM_CANCEL = "confirm_cancel"
SLOT_PRIVACY_REQUEST = "privacy_request"  # REQUEST_EXPORT or REQUEST_ERASE, in the privacy form
SLOT_CONFIRM_ERASE = "confirm_erase"  # the customer confirmed the erasure
SLOT_VERIFICATION_CODE = "verification_code"  # "verified" once the e-mailed code matched
SLOT_VERIFIED_BY = "verified_by"  # how the customer proved who they are: VERIFIED_BY_*
VERIFIED_BY_IDENTITY = "identity_token"  # the company's website signed them in
VERIFIED_BY_CODE = "code"  # a one-time code sent to the e-mail on file
VERIFIED_BY_EMAIL = "email"  # only the e-mail on an order or account: reads, never changes
# Recognised from an earlier proof: the sender's verified phone number
# (METADATA_IDENTITY_PROOF), or a chat that proved the e-mail on file with a code in an
# earlier session (the store's identities). Reads; changes still take a new code.
VERIFIED_BY_LINK = "linked"
# What links a conversation to a customer beyond its session (the conversation facts'
# customer, the console's history): proof, never an e-mail typed in the chat.
PROVEN_IDENTITY = (VERIFIED_BY_IDENTITY, VERIFIED_BY_CODE, VERIFIED_BY_LINK)
# Customer keys of customers the website (or a messaging platform) proved: "signed-in:C1001".
SIGNED_IN_KEY_PREFIX = "signed-in:"
# What may change an account, cancel or refund: a signed identity or a one-time code.
STRONG_VERIFICATION = (VERIFIED_BY_IDENTITY, VERIFIED_BY_CODE)
SLOT_OPEN_CASE_ID = "open_case_id"  # the case the returning customer was asked about
SLOT_WELCOME_BACK = "welcome_back_pending"  # True while "is this about …?" awaits an answer
SLOT_KB_ARTICLE = "kb_article_id"  # help-center article shown last
SLOT_KB_SCORE = "kb_article_score"  # its retrieval score
SLOT_KB_CONFIDENCE = "kb_confidence"  # confidence that it answered the question
SLOT_KB_CANDIDATES = "kb_candidates"  # the question's ranked hits, for "that didn't help"
SLOT_KB_SHOWN = "kb_shown"  # article ids shown for the current question
SLOT_KB_OUTCOME = "kb_outcome"  # one of KB_OUTCOMES
SLOT_FAILED_ANSWERS = "failed_answers"  # fallbacks, help-center misses, "didn't help"
SLOT_CUSTOMER_TIER = "customer_tier"  # "standard" or "plus", from the store
SLOT_CONTACTS_7D = "contacts_7d"  # the customer's support contacts in the last 7 days
SLOT_TONE = "tone"  # "empathetic" while distress is elevated (routing.RoutingPolicy)
SLOT_ROUTING_DECISION = "routing_decision"  # routing.Decision.as_dict() of the last turn
SLOT_HANDOFF_STATUS = "handoff_status"  # waiting, claimed (bot silent), resolved, handed_back
SLOT_HANDOFF_REFERENCE = "handoff_reference"  # the handoff backend's id for it
REQUESTED_SLOT = "requested_slot"

# Slots a returning customer keeps when a new session starts (see action_session_start).
CARRY_OVER_SLOTS: tuple[str, ...] = (
    SLOT_CUSTOMER_KEY,
    SLOT_CUSTOMER_ID,
    SLOT_CUSTOMER_NAME,
    SLOT_CUSTOMER_TIER,
    SLOT_HANDOFF_STATUS,  # a conversation held by a person stays with them
    SLOT_HANDOFF_REFERENCE,
)
TONE_EMPATHETIC = "empathetic"

# --- Values of the kb_outcome slot: what became of the latest help-center question ----
KB_ANSWERED = "answered"  # a passage was shown with confidence
KB_MISS = "miss"  # nothing confident: "I'm not sure" (a failed answer)
KB_NOT_HELPFUL = "not_helpful"  # the customer said the passage did not help
KB_OUTCOMES = (KB_ANSWERED, KB_MISS, KB_NOT_HELPFUL)

# --- Routing decisions (routing.decide), stored in the routing_decision slot ----------
ROUTE_CONTINUE = "continue"
ROUTE_EMPATHIZE = "empathize"
ROUTE_ESCALATE = "escalate"
ROUTE_ACTIONS = (ROUTE_CONTINUE, ROUTE_EMPATHIZE, ROUTE_ESCALATE)
PRIORITY_URGENT = "urgent"
PRIORITY_HIGH = "high"
PRIORITY_NORMAL = "normal"
PRIORITIES = (PRIORITY_URGENT, PRIORITY_HIGH, PRIORITY_NORMAL)  # most pressing first

# --- Values of the handoff_status slot ------------------------------------------------
HANDOFF_WAITING = "waiting"  # in a queue; the bot is silent
HANDOFF_CLAIMED = "claimed"  # an agent holds it; the bot is silent
HANDOFF_RESOLVED = "resolved"  # the agent closed it; the bot answers again
HANDOFF_HANDED_BACK = "handed_back"  # the agent gave it back to the bot
HANDOFF_STATUSES = (HANDOFF_WAITING, HANDOFF_CLAIMED, HANDOFF_RESOLVED, HANDOFF_HANDED_BACK)
SILENT_STATUSES = frozenset({HANDOFF_WAITING, HANDOFF_CLAIMED})

# --- Entities ---------------------------------------------------------------------
ENTITY_ORDER_NUMBER = "order_number"
ENTITY_EMAIL = "email"
ENTITY_AMOUNT = "amount"
ENTITY_ISSUE_TYPE = "issue_type"
ENTITY_PLAN = "plan"

# --- Intents ----------------------------------------------------------------------
INTENT_GREET = "greet"
INTENT_AFFIRM = "affirm"
INTENT_DENY = "deny"
INTENT_ORDER_STATUS = "order_status"
INTENT_DELIVERY_PROBLEM = "delivery_problem"
INTENT_REQUEST_REFUND = "request_refund"
INTENT_RETURN_ITEM = "return_item"
INTENT_CANCEL_SUBSCRIPTION = "cancel_subscription"
INTENT_BILLING_ISSUE = "billing_issue"
INTENT_ACCOUNT_ACCESS = "account_access"
INTENT_CHANGE_ADDRESS = "change_address"
INTENT_COMPLAINT = "complaint"
INTENT_REQUEST_HUMAN = "request_human"
INTENT_ASK_FAQ = "ask_faq"
INTENT_NOT_HELPFUL = "not_helpful"
INTENT_NLU_FALLBACK = "nlu_fallback"
INTENT_OUT_OF_SCOPE = "out_of_scope"
INTENT_THANKS = "thanks"
INTENT_GOODBYE = "goodbye"
INTENT_INFORM = "inform"
INTENT_BOT_CHALLENGE = "bot_challenge"
INTENT_STOP = "stop"  # leave the question being asked: "never mind", "forget it"
INTENT_FORGET_ME = "forget_me"  # "forget me": withdraw consent, unlink the chat
INTENT_REMEMBER_ME = "remember_me"  # "remember me": consent on a channel without the panel
INTENT_EXPORT_DATA = "export_my_data"  # "send me a copy of my data"
INTENT_ERASE_DATA = "erase_my_data"  # "delete all my data"
# Intents that are not requests: asking one again is no repetition, and none of them is
# what a conversation is about.
SMALL_TALK_INTENTS = frozenset(
    {
        INTENT_GREET,
        INTENT_GOODBYE,
        INTENT_THANKS,
        INTENT_AFFIRM,
        INTENT_DENY,
        INTENT_INFORM,
        INTENT_BOT_CHALLENGE,
        INTENT_OUT_OF_SCOPE,
        INTENT_NLU_FALLBACK,
        INTENT_NOT_HELPFUL,
    }
)

# --- Issue types (canonical values of the issue_type entity) ------------------------
ISSUE_LATE = "late"
ISSUE_LOST = "lost"
ISSUE_DAMAGED = "damaged"
ISSUE_CHARGED_TWICE = "charged_twice"
ISSUE_UNKNOWN_CHARGE = "unknown_charge"
ISSUE_PASSWORD = "password"
ISSUE_LOCKED = "locked"
ISSUE_HACKED = "hacked"
DELIVERY_ISSUES = (ISSUE_LATE, ISSUE_LOST, ISSUE_DAMAGED)
BILLING_ISSUES = (ISSUE_CHARGED_TWICE, ISSUE_UNKNOWN_CHARGE)
ACCOUNT_ISSUES = (ISSUE_PASSWORD, ISSUE_LOCKED, ISSUE_HACKED)

# --- Plans (canonical values of the plan entity) -------------------------------------
PLAN_PANTRY_BOX = "pantry_box"
PLAN_PLUS = "plus"

# --- Custom actions and forms ---------------------------------------------------------
ACTION_SESSION_START = "action_session_start"
ACTION_GREET = "action_greet"
ACTION_RESUME_CASE = "action_resume_case"
ACTION_DISMISS_CASE = "action_dismiss_case"
ACTION_ORDER_STATUS = "action_order_status"
ACTION_REPORT_DELIVERY_PROBLEM = "action_report_delivery_problem"
ACTION_SUBMIT_RETURN = "action_submit_return"
ACTION_CHANGE_ADDRESS = "action_change_address"
ACTION_ACCOUNT_HELP = "action_account_help"
ACTION_CHECK_BILLING = "action_check_billing"
ACTION_CANCEL_SUBSCRIPTION = "action_cancel_subscription"
ACTION_RECORD_COMPLAINT = "action_record_complaint"
ACTION_CONTACT_HUMAN = "action_contact_human"  # hand the conversation to a person
ACTION_DEFAULT_FALLBACK = "action_default_fallback"
ACTION_ANSWER_FROM_HELP_CENTER = "action_answer_from_help_center"
ACTION_HELP_CENTER_NOT_HELPFUL = "action_help_center_not_helpful"
ACTION_RELAY_TO_AGENT = "action_relay_to_agent"  # a message while a person holds the chat
ACTION_ASK_CONFIRM_CANCEL = "action_ask_confirm_cancel"  # the subscription form's question
ACTION_FORGET_ME = "action_forget_me"  # consent withdrawn: not remembered from now on
ACTION_REMEMBER_ME = "action_remember_me"  # consent given in words (messaging channels)
ACTION_PRIVACY_REQUEST = "action_privacy_request"  # an export or erasure, once verified
ACTION_ASK_CONFIRM_ERASE = "action_ask_confirm_erase"  # the privacy form's question

FORM_ORDER_LOOKUP = "order_lookup_form"
FORM_DELIVERY_PROBLEM = "delivery_problem_form"
FORM_RETURN = "return_form"
FORM_ADDRESS = "address_form"
FORM_ACCOUNT = "account_form"
FORM_BILLING = "billing_form"
FORM_SUBSCRIPTION = "subscription_form"
FORM_PRIVACY = "privacy_form"

# --- Keys in a message that are not stored (set by nlu.SharedEncoderFeaturizer for the
# --- components after it, within one pass through the pipeline) ----------------------
SHARED_ENCODING = "shared_encoding"  # nlu.encoder.Encoding of the message text

# --- Keys of a bot message's custom payload (agent replies on the web chat) -------------
CUSTOM_SENDER = "sender"  # "agent" for a person's message
CUSTOM_AGENT_NAME = "agent_name"
CUSTOM_TEXT = "text"
SENDER_AGENT = "agent"
# A bot message's custom payload on a handoff change, for the web chat's status line:
# {"sender": "bot", "handoff_status": <HANDOFF_*>, "handoff_agent": name, "team": words}
CUSTOM_HANDOFF_STATUS = "handoff_status"
CUSTOM_HANDOFF_AGENT = "handoff_agent"  # not agent_name: that marks a person's own message
CUSTOM_TEAM = "team"
CUSTOM_QUEUE = "queue"
SENDER_CUSTOMER = "customer"  # transcript senders: customer, bot, agent
SENDER_BOT = "bot"

# --- Tracker event names and keys (Rasa's wire format, rasa.shared.core.events) -------
EVENT_USER = "user"
EVENT_BOT = "bot"
EVENT_SLOT = "slot"
EVENT_ACTION = "action"
EVENT_ACTIVE_LOOP = "active_loop"
EVENT_SESSION_STARTED = "session_started"
PARSE_INTENT = "intent"
PARSE_ENTITIES = "entities"

# --- CSAT (issue 16): asked when a conversation ends, by the bot or a person ------------
INTENT_RATE = "rate_service"  # a click on a rating button: /rate_service{"csat_score": 4}
SLOT_CSAT_SCORE = "csat_score"  # 1-5
SLOT_CSAT_COMMENT = "csat_comment"  # optional words after the rating
ENTITY_CSAT_SCORE = "csat_score"
ACTION_ASK_RATING = "action_ask_rating"  # after goodbye: the rating, when a request was made
ACTION_RECORD_CSAT = "action_record_csat"  # thanks for the rating, asks for a comment
ACTION_RECORD_CSAT_COMMENT = "action_record_csat_comment"
CSAT_SCORES = (1, 2, 3, 4, 5)
CSAT_SATISFIED = 4  # CSAT: the share of responses at or above this

# --- Conversation outcomes (insights.facts) ------------------------------------------
OUTCOME_BOT = "bot"  # resolved by the bot: no person, nothing left failed
OUTCOME_PERSON = "person"  # an agent resolved it
OUTCOME_ABANDONED = (
    "abandoned"  # the customer left unhelped (the bot failed, or a person never finished)
)
OUTCOMES = (OUTCOME_BOT, OUTCOME_PERSON, OUTCOME_ABANDONED)
# A conversation has ended when it was closed (goodbye, a rating, an agent's resolve) or
# nothing happened in it for this long (as Rasa's session expiry in the domain).
CONVERSATION_IDLE_SECONDS = 60 * 60
REPEAT_CONTACT_SECONDS = 7 * 24 * 60 * 60  # first-contact resolution: no return within 7 days

# --- Personal data (privacy.redact): span labels, each replaced by "[LABEL]" ------------
PII_EMAIL = "EMAIL"
PII_PHONE = "PHONE"
PII_CARD = "CARD"  # a payment card number (Luhn-valid)
PII_IBAN = "IBAN"
PII_NATIONAL_ID = "NATIONAL_ID"  # US SSN, UK National Insurance number
PII_IP = "IP"
PII_ADDRESS = "ADDRESS"  # a street address
PII_PERSON = "PERSON"  # a person's name
PII_DOB = "DOB"  # a date of birth
PII_LABELS = (
    PII_EMAIL,
    PII_PHONE,
    PII_CARD,
    PII_IBAN,
    PII_NATIONAL_ID,
    PII_IP,
    PII_ADDRESS,
    PII_PERSON,
    PII_DOB,
)

# --- Consent (issue 18): what a customer agreed to, each purpose asked separately -------
CONSENT_REMEMBER = "remember_conversations"  # link their chats to them across sessions
CONSENT_ORDER_HISTORY = "use_order_history"  # offer their orders instead of asking
CONSENT_PURPOSES = (CONSENT_REMEMBER, CONSENT_ORDER_HISTORY)
# The words the customer is shown, stored with each choice: change them and the stored
# choices keep the words that were agreed to.
CONSENT_QUESTION = "You choose what I remember. You can change this at any time."
CONSENT_TEXTS = {
    CONSENT_REMEMBER: "Remember my conversations, so next time I don't have to repeat "
    "myself. Without this, each conversation starts fresh.",
    CONSENT_ORDER_HISTORY: "Use my order history to help me, for example to show my recent "
    "orders instead of asking for an order number.",
}
# What the messaging channels (no panel) say after a code, and store as the words shown
# when the customer answers "remember me".
REMEMBER_TIP = (
    "If you'd like me to remember you next time, say \"remember me\" once we're done here "
    '(and "forget me" whenever you change your mind).'
)
# Custom payload key of a bot message asking the web chat to show the consent choices.
CUSTOM_CONSENT = "consent"
CONSENT_ASK = "ask"
# Privacy requests a verified customer makes in the chat (bot.privacy_requests), the
# values of the privacy_request slot.
REQUEST_EXPORT = "export"
REQUEST_ERASE = "erase"

# What a customer is told when their message did not go through (a server restarting,
# one killed mid-turn): the channels' and the load balancer's answer alike.
RETRY_PROMPT = "Sorry, that message didn't go through. Please send it again."
