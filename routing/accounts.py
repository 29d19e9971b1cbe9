"""`Accounts`: who may use the agent console — users, hashed passwords, sessions, roles.

Passwords are hashed with scrypt (a random 16-byte salt each) and compared in constant
time; sessions are random tokens of which only the SHA-256 is stored, and expire.
Roles: `agent` (queue, claim, reply, notes, resolve, hand back), `lead` (also sees every
conversation and can close any of them) and `admin` (also manages users).

Create users with the command (the password is prompted for, or read from stdin):

    python -m routing.accounts add dana --role agent --name "Dana"
    python -m routing.accounts list
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import secrets
import sys
import time
from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa

from core.database import Database

AGENT = "agent"
LEAD = "lead"
ADMIN = "admin"
ROLES = (AGENT, LEAD, ADMIN)
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD_CHARS = 8
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

metadata = sa.MetaData()
users = sa.Table(
    "console_users",
    metadata,
    sa.Column("username", sa.String(80), primary_key=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(80), sa.ForeignKey("console_users.username"), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


class AccountError(Exception):
    """A user could not be created or signed in; the message says why."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str

    def can(self, role: str) -> bool:
        """True if this user's role is `role` or above (agent < lead < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)  # type: ignore[arg-type]
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hash_password(password, bytes.fromhex(salt_hex)).split("$")[2]
    return hmac.compare_digest(candidate, digest_hex)


class Accounts:
    """Console users and their sessions, in the same database as the handoff queue."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, metadata)

    @cached_property
    def _dummy_hash(self) -> str:
        """Checked against when a username does not exist, so timing does not tell."""
        return hash_password(secrets.token_hex(8))

    def close(self) -> None:
        self.db.close()

    def add_user(
        self, username: str, password: str, role: str = AGENT, display_name: str | None = None
    ) -> User:
        name = username.strip().lower()
        if not name or not set(name) <= USERNAME_CHARS or len(name) > 80:
            raise AccountError(
                f"Username {username!r} is not valid: use 1-80 lowercase letters, digits, "
                "dots, dashes or underscores."
            )
        if role not in ROLES:
            raise AccountError(f"Role {role!r} is not one of {', '.join(ROLES)}.")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(
                f"The password has {len(password)} characters; use at least {MIN_PASSWORD_CHARS}."
            )
        user = User(name, (display_name or name.capitalize()).strip()[:120], role)
        with self.db.begin() as c:
            if c.execute(sa.select(users.c.username).where(users.c.username == name)).first():
                raise AccountError(
                    f"User {name!r} already exists. Pick another name, or use "
                    "`python -m routing.accounts set-password` to change their password."
                )
            c.execute(
                users.insert().values(
                    username=name,
                    display_name=user.display_name,
                    role=role,
                    password_hash=hash_password(password),
                    created_at=time.time(),
                )
            )
        return user

    def set_password(self, username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"Use at least {MIN_PASSWORD_CHARS} characters.")
        with self.db.begin() as c:
            done = c.execute(
                users.update()
                .where(users.c.username == username.lower())
                .values(password_hash=hash_password(password))
            ).rowcount
            c.execute(sessions.delete().where(sessions.c.username == username.lower()))
        if not done:
            raise AccountError(f"There is no user {username!r}.")

    def list_users(self) -> list[User]:
        with self.db.begin() as c:
            rows = c.execute(sa.select(users).order_by(users.c.username)).fetchall()
        return [User(r.username, r.display_name, r.role) for r in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        with self.db.begin() as c:
            row = c.execute(
                sa.select(users).where(users.c.username == (username or "").strip().lower())
            ).first()
        if row is None:
            verify_password(password, self._dummy_hash)
            return None
        if not verify_password(password, row.password_hash):
            return None
        return User(row.username, row.display_name, row.role)

    def start_session(self, user: User, seconds: int = SESSION_SECONDS) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.db.begin() as c:
            c.execute(sessions.delete().where(sessions.c.expires_at < now))
            c.execute(
                sessions.insert().values(
                    token_hash=_token_hash(token), username=user.username, expires_at=now + seconds
                )
            )
        return token

    def user_for_session(self, token: str | None) -> User | None:
        if not token:
            return None
        with self.db.begin() as c:
            row = c.execute(
                sa.select(users)
                .join(sessions, sessions.c.username == users.c.username)
                .where(sessions.c.token_hash == _token_hash(token))
                .where(sessions.c.expires_at > time.time())
            ).first()
        return User(row.username, row.display_name, row.role) if row is not None else None

    def end_session(self, token: str) -> None:
        with self.db.begin() as c:
            c.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def main(argv: list[str] | None = None) -> int:
    from core.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m routing.accounts", description="Manage agent console users."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default=AGENT)
    add.add_argument("--name", help="display name shown to customers (default: the username)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    reset = commands.add_parser("set-password", help="change a user's password")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    commands.add_parser("list", help="list users")
    args = parser.parse_args(argv)

    accounts = Accounts(Settings.load().store_url)

    def password() -> str:
        if args.password_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat it: "):
            raise AccountError("The two passwords differ; nothing was changed.")
        return first

    try:
        if args.command == "add":
            user = accounts.add_user(args.username, password(), args.role, args.name)
            print(f"Created {user.role} {user.username!r} ({user.display_name}).")
        elif args.command == "set-password":
            accounts.set_password(args.username, password())
            print(f"Changed the password of {args.username!r}; their sessions were ended.")
        else:
            for user in accounts.list_users():
                print(f"{user.username:20} {user.role:6} {user.display_name}")
    except AccountError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        accounts.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
