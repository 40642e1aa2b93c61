"""Default Redis stream, group and key names (each is a setting; these are the defaults)."""

from __future__ import annotations

SUBMITTED_STREAM = "analysis_tasks:submitted"
READY_STREAM = "analysis_tasks"
PRIORITY_STREAM = "analysis_tasks:priority"
DELAYED_ZSET = "analysis_tasks:delayed"
EVENTS_STREAM = "analysis_events"
DEAD_LETTER_STREAM = "analysis_tasks:dead"

SCHEDULERS_GROUP = "schedulers"
RUNNERS_GROUP = "runners"
REPORTERS_GROUP = "reporters"

CANCEL_KEY_PREFIX = "packguard:cancel:"
"""``<prefix><task_id>`` exists while a cancel request is pending for a task."""
RATE_LIMIT_KEY_PREFIX = "packguard:ratelimit:"
SLOTS_KEY_PREFIX = "packguard:slots:"
"""``<prefix><ecosystem>`` is a ZSET of running task ids scored by lease expiry."""
IDEMPOTENCY_KEY_PREFIX = "packguard:idempotency:"
DELAYED_PAYLOAD_HASH = "analysis_tasks:delayed:payload"
"""Message bodies of delayed tasks, by task id (the ZSET holds ids and release times)."""

SEQUENCE_SUFFIX = ":seq"
"""``<stream><suffix>`` counts the entries ever enqueued on a ready stream."""
