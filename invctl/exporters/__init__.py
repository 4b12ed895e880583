"""Exports of the ledger to other tools: CSV for spreadsheets (csv_export.py); hledger and
beancount journals to come. Each exporter writes to a text stream as it goes, so an export
of a big journal holds no more than a month of it (docs/integrations.md)."""
