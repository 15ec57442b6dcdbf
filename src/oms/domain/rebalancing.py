"""Rebalancing before buying: move stock of a SKU from a location holding more than it
needs to one that has to reorder, before a purchase order is suggested for it.

A location *has excess* when its inventory position is above its own order-up-to level
(what it will not need over lead time + review period, safety stock included); a location
*needs* stock when its position is at or below its reorder point, and then needs up to its
order-up-to level. The biggest need is served first, from the biggest excess; a donor never
goes below its order-up-to level, so a transfer never makes it reorder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms.domain.replenishment import ReplenishmentPlan

__all__ = ["TransferSuggestion", "transfers_between"]


@dataclass(frozen=True)
class TransferSuggestion:
    """Move ``quantity`` of ``sku`` from one location (code) to another, and why."""

    sku: str
    from_location: str
    to_location: str
    quantity: int
    reason: str


def transfers_between(plans: Sequence[ReplenishmentPlan]) -> list[TransferSuggestion]:
    """The transfers that cover, from the excess of the others, the needs of the locations
    among ``plans`` (one SKU's plans, one per location) that must reorder."""
    excess = {p.location: p.position - p.order_up_to for p in plans if p.position > p.order_up_to}
    needs = sorted(
        (p for p in plans if p.position <= p.reorder_point and p.order_up_to > p.position),
        key=lambda p: (p.position - p.order_up_to, p.location),
    )
    by_location = {p.location: p for p in plans}
    found: list[TransferSuggestion] = []
    for need in needs:
        wanted = need.order_up_to - need.position
        for donor in sorted(excess, key=lambda code: (-excess[code], code)):
            if wanted <= 0:
                break
            moved = min(wanted, excess[donor])
            if moved <= 0:
                continue
            source = by_location[donor]
            excess[donor] -= moved
            wanted -= moved
            found.append(
                TransferSuggestion(
                    sku=need.sku,
                    from_location=donor,
                    to_location=need.location,
                    quantity=moved,
                    reason=(
                        f"move {moved} from {donor} (position {source.position}, "
                        f"{source.position - source.order_up_to} above its order-up-to level "
                        f"{source.order_up_to}) to {need.location} (position {need.position}, "
                        f"at or below its reorder point {need.reorder_point}; order-up-to "
                        f"{need.order_up_to}) before buying"
                    ),
                )
            )
    return found
