"""Webhooks: endpoints, signed deliveries and their worker.

Every audit event of an organisation (or below it) that maps to a webhook event
becomes a delivery in the same transaction: the fan-out follows the audit
trail from here, so that it is in place wherever the models are loaded.
"""

from server.audit.service import follow
from server.webhooks.events import enqueue_for

follow(enqueue_for)
