"""The settings turned into the plain objects the pure stages take.

The core (`ringtest.core.standards` with its `MetricRules`) and the pure stages
(`ami_listener.lines`) never read the settings model: each is built here, from
`Settings`, by the code that wires a service together.
"""

from __future__ import annotations

from ami_listener.lines import LineDirectory, MonitoredLine
from ringtest.config.models import Line, Settings
from ringtest.core.calendar import WorkingCalendar
from ringtest.core.standards import RING_CADENCE_SECONDS, MetricRules, RingRule, Standards


def ring_rule_of(settings: Settings) -> RingRule:
    """The configured ring cadence (`seconds_per_ring`, else the country's) and rings standard."""
    standards = settings.standards
    seconds_per_ring = standards.seconds_per_ring
    return RingRule(
        seconds_per_ring=(
            seconds_per_ring
            if seconds_per_ring is not None
            else RING_CADENCE_SECONDS[standards.ring_cadence]
        ),
        answer_within_rings=standards.answer_within_rings,
    )


def standards_of(settings: Settings) -> Standards:
    """The standards and working calendar configured in `settings`."""
    standards = settings.standards
    calendar = settings.calendar
    return Standards(
        ring_rule=ring_rule_of(settings),
        callback_within_working_days=standards.callback_within_working_days,
        callback_rule=standards.callback_rule,
        calendar=WorkingCalendar(
            timezone=calendar.timezone,
            opening_hours=calendar.opening_hours(),
            country=calendar.country,
            subdivision=calendar.subdivision,
            extra_closed_dates=calendar.extra_closed_dates,
        ),
        test_caller_ids=standards.test_caller_ids,
        default_region=settings.phone.default_region,
    )


def monitored_line_of(line: Line) -> MonitoredLine:
    """One `[[lines]]` entry as the line lookup's plain record."""
    return MonitoredLine(line.target, line.department, line.name, is_queue=line.queue is not None)


def monitored_lines_by_pbx(settings: Settings) -> dict[str, list[MonitoredLine]]:
    """Each configured PBX's lines (one entry for `[ami]` alone), in configured order."""
    return {
        view.ami.pbx: [monitored_line_of(line) for line in view.lines]
        for view in settings.pbx_views()
    }


def line_directory_of(settings: Settings) -> LineDirectory:
    """The configured `[[lines]]`, to look calls up by dialled number (any spelling of it in
    `phone.default_region`), extension or queue; `ami.inbound_contexts` say which calls are
    from the public; each line's `contexts` and `devices` lead the CDR import to it."""
    return LineDirectory(
        (monitored_line_of(line) for line in settings.lines),
        default_region=settings.phone.default_region,
        inbound_contexts=settings.ami.inbound_contexts,
        line_contexts={
            context: monitored_line_of(line) for line in settings.lines for context in line.contexts
        },
        line_devices={
            device: monitored_line_of(line) for line in settings.lines for device in line.devices
        },
    )


def metric_rules_of(settings: Settings) -> MetricRules:
    """What the report's metrics measure against: the rings standard and cadence, the
    short-abandon threshold and the calendar's time zone."""
    return MetricRules(
        answer_within_rings=settings.standards.answer_within_rings,
        seconds_per_ring=ring_rule_of(settings).seconds_per_ring,
        short_abandon_seconds=settings.report.short_abandon_seconds,
        timezone=settings.calendar.timezone,
    )
