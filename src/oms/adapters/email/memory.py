"""A mailer that keeps what it is given, for tests and the demo; it can be told how to
answer the next sends (a 4xx, a 5xx), like a real server having a bad day."""

from __future__ import annotations

import threading
from collections import deque

from oms.services.mailer import Mailer, MailReceipt, OutgoingEmail

__all__ = ["RecordingMailer"]


class RecordingMailer(Mailer):
    """Accepts every email (``sent``), unless answers were queued with ``answer_next``."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.refused: list[tuple[OutgoingEmail, MailReceipt]] = []
        self._answers: deque[MailReceipt] = deque()
        self._lock = threading.Lock()

    def answer_next(self, *receipts: MailReceipt) -> None:
        """The next sends get these answers, in order; then every send is accepted again."""
        with self._lock:
            self._answers.extend(receipts)

    def send(self, email: OutgoingEmail) -> MailReceipt:
        with self._lock:
            receipt = self._answers.popleft() if self._answers else MailReceipt(True, 250)
            if receipt.accepted:
                self.sent.append(email)
            else:
                self.refused.append((email, receipt))
        return receipt
