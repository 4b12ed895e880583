"""Importers: sales from shop systems (Shopify, generic CSV) as journal events."""
