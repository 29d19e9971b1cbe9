"""Changing the delivery address of an order."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.base import (
    SupportAction,
    VerifiedFormValidation,
    customer_key,
    get_store,
    request_done,
    unproven,
)
from bot.store.models import CASE_ADDRESS_CHANGE, DELIVERED, OUT_FOR_DELIVERY, SHIPPED
from core.constants import ACTION_CHANGE_ADDRESS, FORM_ADDRESS, SLOT_NEW_ADDRESS, SLOT_ORDER_NUMBER


class ValidateAddressForm(VerifiedFormValidation):
    def name(self) -> str:
        return f"validate_{FORM_ADDRESS}"

    def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = " ".join(str(value or "").split())
        if not re.search(r"\d", address) or len(address.split()) < 3:
            dispatcher.utter_message(
                text="That doesn't look like a full address. Please send street and number, "
                "city and ZIP or postal code, e.g. 12 Oak St, Springfield, IL 62704."
            )
            return {SLOT_NEW_ADDRESS: None}
        return {SLOT_NEW_ADDRESS: address[:300]}


class ActionChangeAddress(SupportAction):
    def name(self) -> str:
        return ACTION_CHANGE_ADDRESS

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        refused = unproven(dispatcher, tracker)
        if refused is not None:
            return refused
        store = get_store()
        number = tracker.get_slot(SLOT_ORDER_NUMBER) or ""
        address = tracker.get_slot(SLOT_NEW_ADDRESS) or ""
        order = store.get_order(number)
        if order is None:
            dispatcher.utter_message(text="Sorry, I couldn't find that order any more.")
            return request_done()
        if store.change_address(number, address):
            dispatcher.utter_message(
                text=f"Done — order {number} will ship to {address}. You'll get a confirmation "
                "email with the new address."
            )
        elif order.status in (SHIPPED, OUT_FOR_DELIVERY):
            case = store.open_case(
                customer_key(tracker),
                CASE_ADDRESS_CHANGE,
                f"Asked to redirect shipped order {number} to: {address}.",
                order_number=number,
                customer_id=order.customer_id,
            )
            dispatcher.utter_message(
                text=f"Order {number} has already shipped with {order.carrier}, so I can't "
                f"change its address here. You may be able to redirect it from the carrier's "
                f"tracking page (tracking {order.tracking}); I've also noted the new address "
                f"for our team (case #{case.id})."
            )
        elif order.status == DELIVERED:
            dispatcher.utter_message(
                text=f"Order {number} was already delivered, so its address can't change. "
                "New orders will use whatever address you choose at checkout."
            )
        else:
            dispatcher.utter_message(
                text=f"Order {number} is {order.status.replace('_', ' ')}, so its address "
                "can't be changed."
            )
        return request_done()
