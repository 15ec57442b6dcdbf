"""Fulfilment documents as PDF: pick lists for a wave, packing slips and 4x6 shipping labels,
rendered by ``pdf`` from plain dataclasses the caller fills in (no database access here)."""
