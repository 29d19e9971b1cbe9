"""`within`: an awaitable's result within a deadline, or TimeoutError, without waiting
for a call that ignores its cancellation.

`asyncio.wait_for` cancels what timed out and then waits for it to end. A network call
whose connection died without a word can sit in a read that swallows the cancellation
(seen with aio-pika and redis-py in the chaos tests), and `wait_for` then waits for ever:
the caller stalls, silently. `within` cancels it and goes on; the call is left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """The result of `awaitable`, or `asyncio.TimeoutError` after `seconds`."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:  # the caller was cancelled: so is the call
        task.cancel()
        task.add_done_callback(_retrieve)
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_retrieve)
        raise asyncio.TimeoutError(f"no answer within {seconds:g} s")
    return task.result()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Read the outcome of a task left behind, so asyncio does not log it as unread."""
    if not task.cancelled():
        task.exception()
