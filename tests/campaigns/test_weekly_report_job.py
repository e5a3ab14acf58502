"""The campaign daemon sends the weekly report on Monday at 08:00 local time."""

from __future__ import annotations

from datetime import UTC, datetime

from ringtest.campaigns.daemon import CampaignDaemon
from ringtest.campaigns.weekly_report import REPORT_JOB_ID, weekly_report_trigger
from ringtest.config import load_settings


def test_report_is_due_next_monday_at_eight_london_time():
    trigger = weekly_report_trigger(load_settings(None, environ={}))
    sunday_night = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, sunday_night) == datetime(
        2026, 11, 23, 8, 0, tzinfo=UTC
    )


def test_summer_time_moves_the_report_an_hour_earlier_in_utc():
    trigger = weekly_report_trigger(load_settings(None, environ={}))
    in_june = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, in_june) == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


def test_configured_day_and_time_are_used():
    settings = load_settings(
        None, overrides={"report.schedule_day": "fri", "report.schedule_time": "16:30"}, environ={}
    )
    friday = weekly_report_trigger(settings).get_next_fire_time(
        None, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    )
    assert friday == datetime(2026, 11, 27, 16, 30, tzinfo=UTC)


def test_daemon_schedules_the_report_only_when_someone_receives_it(store):
    def scheduled(recipients):
        settings = load_settings(None, overrides={"report.recipients": recipients}, environ={})
        daemon = CampaignDaemon(settings, store, [])
        daemon.start()
        try:
            job = daemon.scheduler.get_job(REPORT_JOB_ID)
            daemon.resync()
            return job is not None, daemon.scheduler.get_job(REPORT_JOB_ID) is not None
        finally:
            daemon.stop()

    assert scheduled(["performance@council.example"]) == (True, True)
    assert scheduled([]) == (False, False)
