"""Sales channel adapters: one module per store kind, behind
``oms.services.channels.SalesChannel``."""
