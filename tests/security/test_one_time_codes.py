"""Account changes need more than an e-mail address (issue 13, "Verified identity").

Finding, failing on the code before the fix: account, billing and subscription changes
were verified by an e-mail address alone, which anyone may know. Now:

- a form that changes an address, refunds, returns or cancels asks for a one-time code
  sent to the e-mail on file (`bot.verification.OneTimeCodes`), unless the website
  signed the customer in;
- the actions that change the store refuse a customer proven by e-mail alone;
- codes expire, allow 5 attempts, at most 3 are sent per conversation an hour, and only
  a salted hash is stored;
- production sends through SMTP (a real local SMTP server here, aiosmtpd), the default
  run writes to DATA_DIR/outbox/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import base
from bot.actions.billing import ActionCheckBilling
from bot.actions.questions import ActionAskVerificationCode
from bot.actions.returns import ValidateReturnForm
from bot.actions.subscriptions import ActionCancelSubscription
from bot.errors import MailError
from bot.mail import OutboxMailer, SmtpMailer, outbox_messages
from bot.store import SupportStore
from bot.verification import (
    MAX_CODES_PER_CUSTOMER_PER_HOUR,
    MAX_CODES_PER_HOUR,
    OneTimeCodes,
    code_in,
)
from tests.bot.test_actions import remember, run, tracker
from tests.conftest import free_port, run_async

KEY = "conversation-1"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def codes(store: SupportStore, outbox: Path) -> OneTimeCodes:
    codes = OneTimeCodes(store, OutboxMailer(outbox, "Support <support@example.com>"))
    base.set_store(store)
    base.set_codes(codes)
    yield codes
    base.set_store(None)


def weakly_known(**slots) -> Tracker:
    """Dana, who typed the e-mail on her order: enough to read it, not to change it."""
    return tracker(
        {
            "customer_key": KEY,
            "customer_id": "C1001",
            "email": "dana.whitfield@example.com",
            "verified_by": "email",
            **slots,
        },
        sender=KEY,
    )


def last_code(outbox: Path) -> str:
    code = code_in(outbox_messages(outbox)[-1])
    assert code is not None
    return code


# --- Forms ask for the code ------------------------------------------------------------
def test_a_form_that_changes_the_account_asks_for_a_code_after_the_email(codes) -> None:
    form = ValidateReturnForm()
    domain_slots = ["order_number", "email", "verification_code", "refund_reason"]
    anonymous = run_async(form.required_slots(domain_slots, CollectingDispatcher(), tracker(), {}))
    assert anonymous == domain_slots
    weak = run_async(form.required_slots(domain_slots, CollectingDispatcher(), weakly_known(), {}))
    assert weak == ["order_number", "verification_code", "refund_reason"]
    for proof in ("code", "identity_token"):
        strong = weakly_known(verified_by=proof)
        slots = run_async(form.required_slots(domain_slots, CollectingDispatcher(), strong, {}))
        assert slots == ["order_number", "refund_reason"]


def test_the_code_goes_to_the_address_on_file_and_is_asked_for(codes, outbox: Path) -> None:
    messages, _ = run(ActionAskVerificationCode(), weakly_known())
    assert "6-digit code to d***@example.com" in messages[0]["text"]
    (mail,) = outbox_messages(outbox)
    assert mail["To"] == "dana.whitfield@example.com"
    assert "Hello Dana" in mail.get_content() and code_in(mail)
    # Asked again (after a wrong code, or a question in between): no second e-mail.
    messages, _ = run(ActionAskVerificationCode(), weakly_known())
    assert "type the 6-digit code I sent" in messages[0]["text"]
    assert len(outbox_messages(outbox)) == 1


def test_the_right_code_proves_who_the_customer_is(codes, store, outbox: Path) -> None:
    remember(store, KEY)  # the customer agreed to be remembered (the web chat asks)
    run(ActionAskVerificationCode(), weakly_known())
    form = ValidateReturnForm()
    dispatcher = CollectingDispatcher()
    typed = f"it's {last_code(outbox)[:3]} {last_code(outbox)[3:]}"
    result = form.validate_verification_code(typed, dispatcher, weakly_known(), {})
    assert result == {
        "verification_code": "verified",
        "verified_by": "code",
        "customer_id": "C1001",  # with its proof, so the facts link the conversation
    }
    assert store.customer_for_key(KEY).id == "C1001"  # the conversation is linked now
    # A code works once.
    again = form.validate_verification_code(last_code(outbox), dispatcher, weakly_known(), {})
    assert again == {"verification_code": None}


def test_wrong_codes_count_and_the_fifth_ends_the_code(codes, outbox: Path) -> None:
    run(ActionAskVerificationCode(), weakly_known())
    right = last_code(outbox)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    form = ValidateReturnForm()
    replies = []
    for _ in range(5):
        dispatcher = CollectingDispatcher()
        assert form.validate_verification_code(wrong, dispatcher, weakly_known(), {}) == {
            "verification_code": None
        }
        replies.append(dispatcher.messages[0]["text"])
    assert "4 tries left" in replies[0] and "1 tries left" in replies[3]
    assert "no longer works" in replies[4]
    dispatcher = CollectingDispatcher()
    assert form.validate_verification_code(right, dispatcher, weakly_known(), {}) == {
        "verification_code": None
    }  # the right code, too late


def test_an_expired_code_does_not_work(codes, store, outbox: Path) -> None:
    codes.store.create_code(KEY, "C1001", "123456", timedelta(seconds=-1))
    dispatcher = CollectingDispatcher()
    result = ValidateReturnForm().validate_verification_code(
        "123456", dispatcher, weakly_known(), {}
    )
    assert result == {"verification_code": None} and "expired" in dispatcher.messages[0]["text"]


def test_at_most_three_codes_an_hour_per_conversation(codes, outbox: Path) -> None:
    customer = codes.store.get_customer("C1001")
    sent = [codes.send(KEY, customer).sent for _ in range(MAX_CODES_PER_HOUR + 1)]
    assert sent == [True] * MAX_CODES_PER_HOUR + [False]
    assert len(outbox_messages(outbox)) == MAX_CODES_PER_HOUR


def test_codes_to_one_customer_are_limited_across_conversations(codes, outbox: Path) -> None:
    customer = codes.store.get_customer("C1001")
    sent = [codes.send(f"conversation-{i}", customer).sent for i in range(7)]
    assert sent == [True] * MAX_CODES_PER_CUSTOMER_PER_HOUR + [False, False]


def test_ten_wrong_codes_for_a_customer_lock_their_codes_for_a_day(codes, outbox: Path) -> None:
    customer = codes.store.get_customer("C1001")
    for conversation in ("a", "b"):  # 5 wrong in each of two conversations
        codes.send(conversation, customer)
        for _ in range(5):
            assert codes.check(conversation, "000000").outcome in ("wrong", "locked")
    codes.send("c", customer)
    right = last_code(outbox)
    assert codes.check("c", right).outcome == "locked"  # even the right code, today


def test_only_a_salted_hash_of_the_code_is_stored(codes, store, outbox: Path) -> None:
    codes.send(KEY, store.get_customer("C1001"))
    code = last_code(outbox)
    engine = sa.create_engine(store.url)
    with engine.connect() as c:
        rows = [tuple(map(str, r)) for r in c.execute(sa.text("SELECT * FROM verification_codes"))]
    engine.dispose()
    assert rows and not any(code in value for row in rows for value in row)


def test_a_code_that_cannot_be_sent_is_not_kept(store) -> None:
    class Down:
        def send(self, to: str, subject: str, body: str) -> None:
            raise MailError("the mail server is down")

    codes = OneTimeCodes(store, Down())
    with pytest.raises(MailError):
        codes.send(KEY, store.get_customer("C1001"))
    assert codes.pending(KEY) is None


# --- The actions refuse an e-mail alone -------------------------------------------------
def test_an_email_alone_never_cancels_a_subscription(codes, store) -> None:
    before = [s.status for s in store.subscriptions_for_customer("C1001")]
    messages, _ = run(
        ActionCancelSubscription(), weakly_known(plan="pantry_box", confirm_cancel=True)
    )
    assert "confirm it's you" in messages[0]["text"]
    assert [s.status for s in store.subscriptions_for_customer("C1001")] == before


def test_an_email_alone_never_refunds(codes, store) -> None:
    before = [p.status for p in store.payments_for_customer("C1001")]
    messages, _ = run(ActionCheckBilling(), weakly_known(issue_type="charged_twice"))
    assert "confirm it's you" in messages[0]["text"]
    assert [p.status for p in store.payments_for_customer("C1001")] == before


# --- Production mail ----------------------------------------------------------------------
class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


@contextmanager
def smtp_server(host: str) -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server (aiosmtpd) on `host`: its inbox and its smtp:// URL."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname=host, port=port)
    controller.start()
    try:
        yield inbox, f"smtp://{host}:{port}"
    finally:
        controller.stop()


def test_codes_go_out_through_a_real_smtp_server(store) -> None:
    with smtp_server("127.0.0.1") as (inbox, url):
        mailer = SmtpMailer(url, "Support <support@example.com>")
        OneTimeCodes(store, mailer).send(KEY, store.get_customer("C1002"))
    ((sender, recipients, content),) = inbox.received
    assert sender == "support@example.com" and recipients == ["marcus.lee@example.com"]
    assert "verification code is" in content.decode()


def test_codes_never_cross_a_network_without_tls(store) -> None:
    """aiosmtpd offers no STARTTLS: fine for a relay on this machine (above), refused for
    any other host (127.0.0.2 stands in for one; it is not in the loopback list)."""
    with smtp_server("127.0.0.2") as (inbox, url):
        mailer = SmtpMailer(url, "support@example.com")
        with pytest.raises(MailError, match="STARTTLS"):
            mailer.send("dana.whitfield@example.com", "subject", "body")
    assert inbox.received == []


def test_an_unreachable_smtp_server_is_a_clear_error() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", "support@example.com")
    with pytest.raises(MailError, match="SMTP_URL"):
        mailer.send("dana.whitfield@example.com", "subject", "body")
