"""Fulfilment documents as PDF: pick lists for a wave and packing slips (``sheets``), 4x6
shipping labels (``label``), rendered from plain dataclasses the caller fills in (no database
access here); ``pdf`` re-exports them all."""
