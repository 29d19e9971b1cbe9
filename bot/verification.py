"""`OneTimeCodes`: an anonymous customer proves who they are with a code sent to the
e-mail on file, before anything on their account changes.

The e-mail address alone proves little: anyone may know it. So a form that changes an
address, cancels, refunds or touches an account asks for the address, then sends a
6-digit code to the address *on file* (never to one the customer typed) and asks for it.

- A code works for 10 minutes and for 5 attempts; a new code replaces the old one.
- At most 3 codes per conversation and 5 per customer an hour, so nobody can flood a
  customer's inbox; after 10 wrong codes for a customer in a day, in any conversations,
  their codes stop working for the rest of it.
- Only a salted hash of the code is stored (`verification_codes`).

A customer the company's website signed in (an identity token) never needs a code.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from bot.errors import MailError
from bot.mail import Mailer
from bot.store import Customer, SupportStore
from bot.store.models import CODE_LOCKED, CodeCheck, PendingCode

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 3  # per conversation
MAX_CODES_PER_CUSTOMER_PER_HOUR = 5  # across conversations: no inbox flooding
MAX_FAILURES_PER_CUSTOMER_PER_DAY = 10  # across conversations: no guessing at scale

SUBJECT = "Your Brightbasket verification code"
BODY = """Hello {first_name},

Your Brightbasket verification code is {code}. Type it in the chat to confirm it's you.
It works for {minutes} minutes.

If you didn't ask for it, you can ignore this e-mail: nothing on your account changes
without the code.

Brightbasket Support
"""


@dataclass(frozen=True)
class Sent:
    sent: bool  # False: MAX_CODES_PER_HOUR reached
    to: str


class OneTimeCodes:
    def __init__(self, store: SupportStore, mailer: Mailer) -> None:
        self.store = store
        self.mailer = mailer

    def send(self, customer_key: str, customer: Customer) -> Sent:
        """A new code for the conversation, e-mailed to the customer's address on file.
        Raises MailError when it cannot be sent (and no code is kept then)."""
        hour_ago = datetime.utcnow() - timedelta(hours=1)
        if (
            self.store.codes_sent_since(hour_ago, customer_key=customer_key) >= MAX_CODES_PER_HOUR
            or self.store.codes_sent_since(hour_ago, customer_id=customer.id)
            >= MAX_CODES_PER_CUSTOMER_PER_HOUR
        ):
            return Sent(False, customer.email)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        body = BODY.format(
            first_name=customer.first_name,
            code=code,
            minutes=int(CODE_LIFETIME.total_seconds() // 60),
        )
        self.store.create_code(customer_key, customer.id, code, CODE_LIFETIME)
        try:
            self.mailer.send(customer.email, SUBJECT, body)
        except MailError:
            self.store.void_codes(customer_key)  # never a code the customer cannot get
            raise
        return Sent(True, customer.email)

    def void(self, customer_key: str) -> None:
        """The conversation's pending code stops working (the customer asked for another)."""
        self.store.void_codes(customer_key)

    def pending(self, customer_key: str) -> PendingCode | None:
        return self.store.pending_code(customer_key, MAX_ATTEMPTS)

    def check(self, customer_key: str, code: str) -> CodeCheck:
        """Check a typed code. After MAX_FAILURES_PER_CUSTOMER_PER_DAY wrong codes for a
        customer, in any conversations, their codes stop working for a day."""
        pending = self.pending(customer_key)
        if pending is not None:
            day_ago = datetime.utcnow() - timedelta(days=1)
            failures = self.store.failed_code_attempts_since(pending.customer_id, day_ago)
            if failures >= MAX_FAILURES_PER_CUSTOMER_PER_DAY:
                self.store.void_codes(customer_key)
                return CodeCheck(CODE_LOCKED)
        return self.store.check_code(customer_key, code, MAX_ATTEMPTS)


CODE_IN_BODY = re.compile(r"verification code is (\d{6})")


def code_in(mail: EmailMessage) -> str | None:
    """The code a message of ours carries."""
    body = mail.get_body(preferencelist=("plain",))
    found = CODE_IN_BODY.search(body.get_content() if body is not None else "")
    return found.group(1) if found else None
