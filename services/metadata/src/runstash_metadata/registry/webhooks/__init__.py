"""Webhooks: subscriptions (store.py), checks (rules.py, addresses.py), delivery (delivery.py)."""
