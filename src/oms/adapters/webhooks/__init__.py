"""Merchant webhooks: Standard Webhooks signatures, the public-address guard, the sink."""
