"""packguard reporter: applies task events to PostgreSQL and stores reports in S3.

Every write is idempotent and a final status is never overwritten, so redelivered or
out-of-order events are harmless. See docs/task-lifecycle.md ("record").
"""

from packguard.reporter.notify import Notifier, NullNotifier, TaskFinished
from packguard.reporter.service import Reporter
from packguard.reporter.settings import ReporterSettings

__all__ = ["Notifier", "NullNotifier", "Reporter", "ReporterSettings", "TaskFinished"]
