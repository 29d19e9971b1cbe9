"""Custom actions, served by the Rasa action server: `rasa run actions --actions bot.actions`.

Actions stay thin: they read the tracker, call `bot.support` and `bot.store`, and return
events.
"""

from bot.actions import (  # noqa: F401 - importing registers the actions
    account,
    address,
    billing,
    csat,
    handoff,
    knowledge,
    orders,
    privacy,
    questions,
    returns,
    session,
    subscriptions,
    support,
)
