"""`Accounts`: who may use the agent console — users, hashed passwords, sessions, roles.

Passwords are hashed with scrypt at OWASP's parameters (N=2^17, r=8, p=1: about 128 MB
and a few tenths of a second per hash; a random 16-byte salt each) and compared in
constant time. A hash records its parameters (`scrypt$n=131072,r=8,p=1$salt$digest`);
hashes from before that (`scrypt$salt$digest`, N=2^14) still verify and are rehashed at
the user's next sign-in. Sessions are random tokens of which only the SHA-256 is
stored, and expire. Throttling failed sign-ins is the web front's job
(`bot.web.throttle.SignInThrottle`).
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
MAX_USERNAME_CHARS = 80
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
# OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
SCRYPT_DKLEN = 32
LEGACY_SCRYPT_N = 2**14  # the parameters of a hash stored without them
MAX_SCRYPT_N = 2**20  # a stored hash asking for more is refused, not computed
MAX_PASSWORD_CHARS = 1024

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


def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT_N) -> str:
    """A new scrypt hash of `password` that records its parameters.

    `n` is the CPU/memory cost (a power of two); tests lower it, production keeps
    OWASP's default."""
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt$n={n},r={SCRYPT_R},p={SCRYPT_P}${salt.hex()}${digest.hex()}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # hashlib refuses more than 32 MB by default; N=2^17, r=8 needs 128 MB.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN, maxmem=maxmem
    )


def _parse_hash(stored: str) -> tuple[int, int, int, bytes, str] | None:
    """(n, r, p, salt, digest hex) of a stored hash, or None if it is not one of ours."""
    parts = stored.split("$")
    try:
        if len(parts) == 3 and parts[0] == "scrypt":  # legacy: parameters not recorded
            return LEGACY_SCRYPT_N, 8, 1, bytes.fromhex(parts[1]), parts[2]
        if len(parts) == 4 and parts[0] == "scrypt":
            params = dict(item.split("=", 1) for item in parts[1].split(","))
            n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
            if not (1 < n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 16):
                return None
            return n, r, p, bytes.fromhex(parts[2]), parts[3]
    except (ValueError, KeyError):
        return None
    return None


def verify_password(password: str, stored: str) -> bool:
    parsed = _parse_hash(stored)
    if parsed is None:
        return False
    n, r, p, salt, digest_hex = parsed
    candidate = _scrypt(password, salt, n, r, p).hex()
    return hmac.compare_digest(candidate, digest_hex)


def needs_rehash(stored: str, n: int = SCRYPT_N) -> bool:
    """Whether `stored` was made with weaker parameters than a new hash would be."""
    parsed = _parse_hash(stored)
    return parsed is None or parsed[0] < n or parsed[1] < SCRYPT_R


class Accounts:
    """Console users and their sessions, in the same database as the handoff queue."""

    def __init__(self, url: str, scrypt_n: int = SCRYPT_N) -> None:
        self.db = Database(url, metadata)
        # The cost of new hashes; tests lower it (each OWASP hash takes ~0.3 s, 128 MB).
        self.scrypt_n = scrypt_n

    @cached_property
    def _dummy_hash(self) -> str:
        """Checked against when a username does not exist, so timing does not tell."""
        return hash_password(secrets.token_hex(8), n=self.scrypt_n)

    def close(self) -> None:
        self.db.close()

    def add_user(
        self, username: str, password: str, role: str = AGENT, display_name: str | None = None
    ) -> User:
        name = username.strip().lower()
        if not name or not set(name) <= USERNAME_CHARS or len(name) > MAX_USERNAME_CHARS:
            raise AccountError(
                f"Username {username!r} is not valid: use 1-80 lowercase letters, digits, "
                "dots, dashes or underscores."
            )
        if role not in ROLES:
            raise AccountError(f"Role {role!r} is not one of {', '.join(ROLES)}.")
        _check_password(password)
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
                    password_hash=hash_password(password, n=self.scrypt_n),
                    created_at=time.time(),
                )
            )
        return user

    def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        with self.db.begin() as c:
            done = c.execute(
                users.update()
                .where(users.c.username == username.lower())
                .values(password_hash=hash_password(password, n=self.scrypt_n))
            ).rowcount
            c.execute(sessions.delete().where(sessions.c.username == username.lower()))
        if not done:
            raise AccountError(f"There is no user {username!r}.")

    def list_users(self) -> list[User]:
        with self.db.begin() as c:
            rows = c.execute(sa.select(users).order_by(users.c.username)).fetchall()
        return [User(r.username, r.display_name, r.role) for r in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        if len(password) > MAX_PASSWORD_CHARS or len(username) > MAX_USERNAME_CHARS:
            return None  # no such password or user can exist: nothing to compute
        with self.db.begin() as c:
            row = c.execute(
                sa.select(users).where(users.c.username == (username or "").strip().lower())
            ).first()
        if row is None:
            verify_password(password, self._dummy_hash)
            return None
        if not verify_password(password, row.password_hash):
            return None
        if needs_rehash(row.password_hash, self.scrypt_n):
            # The password is at hand only now: store it at today's parameters. The
            # condition keeps a password changed meanwhile from being overwritten.
            with self.db.begin() as c:
                c.execute(
                    users.update()
                    .where(
                        users.c.username == row.username,
                        users.c.password_hash == row.password_hash,
                    )
                    .values(password_hash=hash_password(password, n=self.scrypt_n))
                )
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(
            f"The password has {len(password)} characters; use at least {MIN_PASSWORD_CHARS}."
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(
            f"The password has {len(password):,} characters; use at most {MAX_PASSWORD_CHARS:,}."
        )


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
