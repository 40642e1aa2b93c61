"""packguard scheduler: accepts submitted tasks and places them on the ready streams.

It applies priority, delayed release (``not_before``), retries with backoff and the
final failure after ``MAX_ATTEMPTS``; re-publishes tasks whose publish was lost; and
exports the queue gauges the runner autoscaler reads. See docs/task-lifecycle.md.
"""

from packguard.scheduler.service import Scheduler
from packguard.scheduler.settings import SchedulerSettings

__all__ = ["Scheduler", "SchedulerSettings"]
