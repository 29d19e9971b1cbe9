"""`core.deadline.within`: a deadline that holds even for a call ignoring cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from core.deadline import within
from tests.conftest import run_async


async def stubborn(seconds: float) -> str:
    """A call whose read swallows its cancellation (as a dead connection's can)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
    return "late"


def test_the_result_comes_back_when_in_time() -> None:
    async def quick() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert run_async(within(quick(), 1.0)) == 42


def test_errors_come_back_as_they_are() -> None:
    async def failing() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        run_async(within(failing(), 1.0))


def test_a_call_ignoring_its_cancellation_is_left_behind_at_the_deadline() -> None:
    async def scenario() -> tuple[float, float]:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await within(stubborn(3.0), 0.2)
        ours = time.monotonic() - started
        started = time.monotonic()
        # asyncio.wait_for waits for it to end (and here even hands back its result).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stubborn(1.0), 0.2)
        theirs = time.monotonic() - started
        return ours, theirs

    ours, theirs = run_async(scenario())
    assert ours < 0.6
    assert theirs >= 0.9  # the stall `within` avoids
