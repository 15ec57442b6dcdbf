"""The background process: ``oms worker`` delivers the outbox (``oms.worker.runner``)."""
