"""Turn the sample data file (data/store/seed.yml) into table rows."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.errors import StoreError

SEED_PATH = Path(__file__).resolve().parents[2] / "data" / "store" / "seed.yml"


def load_seed(path: Path = SEED_PATH) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise StoreError(f"Cannot read the sample data {path}: {e}. Restore it from git.") from e
    if not isinstance(data, dict) or "customers" not in data:
        raise StoreError(f"{path} has no `customers:` list. Restore it from git.")
    return data


def rows_from_seed(seed: dict[str, Any], today: date) -> dict[str, list[dict[str, Any]]]:
    def day(value: Any) -> date | None:
        return None if value is None else today + timedelta(days=int(value))

    try:
        customers = [
            {
                "id": c["id"],
                "name": c["name"],
                "email": c["email"],
                "tier": c.get("tier", "standard"),
                "phone": c.get("phone"),
                "account_status": c.get("account_status", "active"),
            }
            for c in seed.get("customers", [])
        ]
        orders = [
            {
                "number": str(o["number"]),
                "customer_id": o["customer"],
                "status": o["status"],
                "placed_on": day(o["placed"]),
                "shipped_on": day(o.get("shipped")),
                "estimated_delivery": day(o.get("estimated_delivery")),
                "delivered_on": day(o.get("delivered")),
                "carrier": o.get("carrier"),
                "tracking": None if o.get("tracking") is None else str(o["tracking"]),
                "address": o["address"],
                "items": json.dumps(
                    [
                        {
                            "sku": i["sku"],
                            "name": i["name"],
                            "qty": int(i.get("qty", 1)),
                            "price": float(i["price"]),
                            "category": i.get("category", "home"),
                            "returnable": bool(i.get("returnable", True)),
                        }
                        for i in o["items"]
                    ]
                ),
            }
            for o in seed.get("orders", [])
        ]
        subscriptions = [
            {
                "id": s["id"],
                "customer_id": s["customer"],
                "plan": s["plan"],
                "status": s["status"],
                "price": float(s["price"]),
                "period": s["period"],
                "next_billing": day(s.get("next_billing")),
            }
            for s in seed.get("subscriptions", [])
        ]
        payments = [
            {
                "id": p["id"],
                "customer_id": p["customer"],
                "order_number": None if p.get("order") is None else str(p["order"]),
                "amount": float(p["amount"]),
                "descriptor": p["descriptor"],
                "status": p["status"],
                "charged_on": day(p["day"]),
            }
            for p in seed.get("payments", [])
        ]
    except (KeyError, TypeError, ValueError) as e:
        raise StoreError(
            f"The sample data has an invalid record ({e.__class__.__name__}: {e}). "
            f"Check the field names in {SEED_PATH}."
        ) from e
    return {
        "customers": customers,
        "orders": orders,
        "subscriptions": subscriptions,
        "payments": payments,
    }
