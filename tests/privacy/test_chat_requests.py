"""Through the running assistant: "forget me", a copy of one's data by e-mail after a
one-time code, and an erasure a signed-in customer confirms, carried out once the
conversation is quiet."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import sqlalchemy as sa

from bot.mail import outbox_messages
from bot.privacy_requests import QUIET_SECONDS, PrivacyRequests
from bot.store import SupportStore
from bot.store import schema as store_schema
from tests.conftest import RestChat

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_forget_me_with_nothing_remembered(chat) -> None:
    assert "nothing to forget" in chat.say("please forget me")


def test_a_copy_of_my_data_is_emailed_after_a_code(stack, chat) -> None:
    assert "email address" in chat.say("send me a copy of my data")
    assert "code" in chat.say("dana.whitfield@example.com")
    reply = chat.say_code()
    assert "e-mailed a copy of everything we hold about you" in reply, reply
    mail = outbox_messages(stack.settings.data_dir / "outbox")[-1]
    assert mail["To"] == "dana.whitfield@example.com"
    held = json.loads(next(mail.iter_attachments()).get_content())
    assert held["customer"]["id"] == "C1001"


def test_a_signed_in_customer_confirms_an_erasure_which_is_done_when_quiet(stack) -> None:
    ident = uuid.uuid4().hex[:6]
    customer_id, email = f"C9{ident[:4]}", f"erase.me.{ident}@example.net"
    store = SupportStore(stack.settings.store_url)
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(store_schema.customers).values(
                id=customer_id, name="Erin Quill", email=email, tier="standard"
            )
        )
    chat = RestChat(stack.settings, f"erase-{ident}", signed_in_as=customer_id)
    assert "can't be undone" in chat.say("delete all my data")
    assert "will be erased" in chat.say("yes")
    requests = PrivacyRequests(stack.settings, store)
    assert [r.customer_id for r in store.pending_privacy_requests("erase")] == [customer_id]
    assert requests.erase_due() == []  # the conversation has only just gone quiet
    [done] = requests.erase_due(now=time.time() + QUIET_SECONDS + 1)
    assert done.customer_id == customer_id and done.removed["tracker events"] > 0
    assert store.get_customer(customer_id) is None
    store.close()
