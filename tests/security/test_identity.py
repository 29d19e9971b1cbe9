"""Who the customer is (issue 13, "Verified identity").

Findings, each failing on the code before the fix (there, `customer_id` in metadata was
taken as the customer's key, whoever sent it):

- the browser chose who the customer was (`?customer=` → `customer_id` metadata) → the
  channels drop every identity claim a client makes and set one only from an identity
  token signed with IDENTITY_SECRET;
- REST accepted any `customer_id` → the same rule (tests/security/test_channels.py runs
  it against the real server);
- once a key had been verified, it stayed linked for good → session start takes the
  customer only from a verified identity, or from the conversation's own link.
"""

from __future__ import annotations

import time

import jwt
import pytest

from bot.actions import base
from bot.actions.session import ActionSessionStart
from bot.channels.trust import ChannelTrust
from core.errors import ConfigurationError
from core.tokens import IDENTITY_AUDIENCE, IdentityTokens, SessionTokens
from tests.bot.test_actions import remember, run, slot_events, tracker

IDENTITY_SECRET = "identity-secret-shared-with-the-website-0123"
SESSION_SECRET = "session-secret-of-the-chat-channels-456789"


@pytest.fixture(autouse=True)
def _store(store):
    base.set_store(store)
    yield
    base.set_store(None)


def trust() -> ChannelTrust:
    return ChannelTrust(SessionTokens(SESSION_SECRET), IdentityTokens(IDENTITY_SECRET), 1000, 1000)


def website_token(secret: str = IDENTITY_SECRET, **claims) -> str:
    now = int(time.time())
    payload = {"sub": "C1001", "aud": IDENTITY_AUDIENCE, "iat": now, "exp": now + 600}
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")


@pytest.mark.parametrize(
    "claimed",
    [
        {"customer_id": "C1001"},
        {"customer_id": "C1001", "identity_verified": True},
        {"identity_verified": True},
    ],
)
def test_identity_a_client_claims_is_dropped(claimed) -> None:
    assert trust().vouched({**claimed, "note": "kept"}) == {"note": "kept"}


def test_a_token_signed_by_the_website_names_the_customer() -> None:
    vouched = trust().vouched({"identity_token": website_token(), "customer_id": "C1002"})
    assert vouched == {"customer_id": "C1001", "identity_verified": True}  # token dropped


@pytest.mark.parametrize(
    "token",
    [
        website_token(secret="someone-elses-secret-of-enough-length-000"),
        website_token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),  # expired
        website_token(exp=int(time.time()) + 7 * 86400),  # lives a week: too long
        website_token(iat=None),  # no issue time: its lifetime is unknown
        website_token(aud="brightbasket-chat-session"),  # another kind of token
        website_token(sub=""),
        website_token().rsplit(".", 1)[0] + ".",  # signature stripped ("alg": "none" style)
        "not a token",
        "x" * 5000,
    ],
)
def test_forged_expired_or_foreign_tokens_leave_the_visitor_anonymous(token) -> None:
    assert trust().vouched({"identity_token": token}) == {}


def test_a_session_token_is_not_an_identity_token() -> None:
    _, session_token = SessionTokens(IDENTITY_SECRET).issue("C1001")  # even with its secret
    assert IdentityTokens(IDENTITY_SECRET).verify(session_token) is None


def test_short_secrets_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"IDENTITY_SECRET.*at least 32"):
        IdentityTokens("short")


def test_session_start_ignores_a_customer_id_without_the_verified_flag(store) -> None:
    _, events = run(
        ActionSessionStart(),
        tracker({"session_started_metadata": {"customer_id": "C1001"}}, sender="attacker"),
    )
    slots = slot_events(events)
    assert slots["customer_key"] == "attacker"
    assert "customer_id" not in slots and "customer_name" not in slots


def test_a_key_verified_in_another_conversation_is_not_the_customer(store) -> None:
    """Before: a victim who verified under key K stayed linked to K; whoever sent
    `customer_id: K` was greeted as the victim. Now keys are conversations."""
    store.link_identity("victims-conversation", "C1001")
    _, events = run(
        ActionSessionStart(),
        tracker(
            {"session_started_metadata": {"customer_id": "victims-conversation"}},
            sender="attackers-conversation",
        ),
    )
    assert "customer_id" not in slot_events(events)


def test_a_code_proves_the_customer_for_one_session_only(store) -> None:
    """A conversation linked by a code is recognised in its next session, but the proof
    does not carry over: changing the account needs a new code."""
    store.link_identity("browser-conversation", "C1001")
    remember(store, "browser-conversation")  # "remember my conversations"
    previous = {"customer_key": "browser-conversation", "verified_by": "code"}
    _, events = run(ActionSessionStart(), tracker(previous, sender="browser-conversation"))
    slots = slot_events(events)
    assert slots["customer_id"] == "C1001" and slots["verified_by"] == "linked"
