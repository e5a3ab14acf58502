"""The weekly report, sent by the campaign daemon at `report.schedule_day` `schedule_time`.

The job lives in the scheduler's in-memory job store: its trigger is rebuilt
from the settings at every daemon start, so nothing about it needs to survive
a restart (a Monday missed while the daemon was down is sent when it comes
back within the grace period, once).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from ringtest.campaigns.runs import Clock, utc_now
from ringtest.config import Settings
from ringtest.core.errors import RingtestError
from ringtest.store import Store

log = logging.getLogger(__name__)

REPORT_JOB_ID = "weekly-report"
MEMORY_JOBSTORE = "memory"
MISFIRE_GRACE_SECONDS = 6 * 3600
"""A report due while the daemon was down is still sent this late (seconds)."""


def weekly_report_trigger(settings: Settings) -> CronTrigger:
    """Every `report.schedule_day` at `report.schedule_time`, in the calendar's time zone."""
    hour, minute = (int(part) for part in settings.report.schedule_time.split(":"))
    return CronTrigger(
        day_of_week=settings.report.schedule_day,
        hour=hour,
        minute=minute,
        timezone=ZoneInfo(settings.calendar.timezone),
    )


def schedule_weekly_report(
    scheduler: BaseScheduler, settings: Settings, store: Store, clock: Clock = utc_now
) -> bool:
    """Add the weekly report job when someone is to receive it; True when added."""
    if not settings.report.recipients:
        log.info("no report.recipients configured: the weekly report is not scheduled")
        return False
    scheduler.add_job(
        send_scheduled_report,
        weekly_report_trigger(settings),
        args=[settings, store, clock],
        id=REPORT_JOB_ID,
        jobstore=MEMORY_JOBSTORE,
        replace_existing=True,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        coalesce=True,
    )
    return True


def send_scheduled_report(settings: Settings, store: Store, clock: Clock) -> None:
    """The job: report last week and mail it; a failure is logged in one line, not raised."""
    from analysis.report import send_weekly_report  # pandas and matplotlib: only when sending

    try:
        pdf = send_weekly_report(settings, store, clock())
    except RingtestError as error:
        log.error("weekly report not sent: %s", error)
        return
    log.info("weekly report sent to %s: %s", ", ".join(settings.report.recipients), pdf)
