"""Entities and their rules: seat lifecycle, subscriptions, orders. Imports only pricing."""
