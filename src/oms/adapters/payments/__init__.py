"""Payment gateways, implementing the port ``oms.services.payment_gateway.PaymentGateway``:
the channel-reported ``manual`` gateway, the token-driven ``TestGateway`` used by tests and
the demo, and lookup by name."""

from oms.adapters.payments.manual import ManualGateway
from oms.adapters.payments.registry import GATEWAY_NAMES, gateway_named
from oms.adapters.payments.testing import TestGateway

__all__ = ["GATEWAY_NAMES", "ManualGateway", "TestGateway", "gateway_named"]
