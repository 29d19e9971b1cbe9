"""Console users: hashed passwords, sessions, roles, and the user command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from routing.accounts import (
    ADMIN,
    AGENT,
    LEAD,
    AccountError,
    Accounts,
    hash_password,
    main,
    needs_rehash,
    users,
    verify_password,
)


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    # A cheap cost for tests; production hashes at OWASP's N=2^17 (~0.3 s, 128 MB each).
    return Accounts(f"sqlite:///{tmp_path / 'accounts.db'}", scrypt_n=2**10)


def test_passwords_are_salted_hashes_that_verify() -> None:
    # The OWASP default cost: tests/security/test_console_auth.py.
    one, two = hash_password("correct horse", n=2**10), hash_password("correct horse", n=2**10)
    assert one != two and "correct horse" not in one
    assert verify_password("correct horse", one)
    assert not verify_password("correct hors", one)
    assert not verify_password("anything", "not-a-hash")


def test_sign_in_and_sessions(accounts: Accounts) -> None:
    accounts.add_user("Dana", "password123", AGENT, "Dana W.")
    assert accounts.authenticate("dana", "wrong-password") is None
    assert accounts.authenticate("nobody", "password123") is None
    user = accounts.authenticate("dana", "password123")
    assert user is not None and user.display_name == "Dana W." and user.role == AGENT

    token = accounts.start_session(user)
    assert accounts.user_for_session(token) == user
    assert accounts.user_for_session("forged") is None
    accounts.end_session(token)
    assert accounts.user_for_session(token) is None


def test_sessions_expire_and_password_changes_end_them(accounts: Accounts) -> None:
    user = accounts.add_user("sam", "password123")
    expired = accounts.start_session(user, seconds=-1)
    assert accounts.user_for_session(expired) is None
    live = accounts.start_session(user)
    accounts.set_password("sam", "new-password-1")
    assert accounts.user_for_session(live) is None
    assert accounts.authenticate("sam", "new-password-1") is not None


def test_roles_are_ordered() -> None:
    from routing.accounts import User

    assert User("a", "A", ADMIN).can(LEAD) and User("l", "L", LEAD).can(AGENT)
    assert not User("g", "G", AGENT).can(LEAD)


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("bad name!", "password123", AGENT, "not valid"),
        ("dana", "short", AGENT, "at least 8"),
        ("dana", "password123", "boss", "not one of agent, lead, admin"),
    ],
)
def test_bad_users_are_refused_with_the_reason(
    accounts: Accounts, username: str, password: str, role: str, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        accounts.add_user(username, password, role)


def test_duplicate_users_are_refused(accounts: Accounts) -> None:
    accounts.add_user("dana", "password123")
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user("DANA", "password456")


def test_the_command_creates_and_lists_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("STORE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("password123\n"))
    assert main(["add", "lee", "--role", "lead", "--name", "Lee", "--password-stdin"]) == 0
    assert "Created lead 'lee' (Lee)" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["add", "kim", "--password-stdin"]) == 1
    assert "at least 8" in capsys.readouterr().err
    assert main(["list"]) == 0
    assert "lee" in capsys.readouterr().out


def test_the_cost_is_recorded_in_each_hash_and_weaker_ones_are_due_for_a_rehash(
    accounts: Accounts,
) -> None:
    accounts.add_user("dana", "password123")
    with accounts.db.begin() as c:
        stored = c.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("scrypt$n=1024,r=8,p=1$")
    assert needs_rehash(stored)  # below OWASP's default
    assert not needs_rehash(stored, n=2**10)
    assert not needs_rehash(hash_password("password123", n=2**11), n=2**10)  # never down


def test_passwords_have_an_upper_limit_too(accounts: Accounts) -> None:
    with pytest.raises(AccountError, match="at most 1,024"):
        accounts.add_user("dana", "x" * 1025)
    accounts.add_user("dana", "password123")
    assert accounts.authenticate("dana", "x" * 1025) is None
