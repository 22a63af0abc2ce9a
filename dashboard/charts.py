"""Server-side charts for the dashboard: plain numbers in, SVG geometry out (drawn by
templates/dashboard/_charts.html with presentation attributes only, so they print and need no
script or inline style)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass
class Bar:
    label: str
    values: tuple[int, ...]  # one per series, stacked
    y: float = 0
    widths: tuple[float, ...] = ()
    total: int = 0


@dataclass
class BarChart:
    title: str
    series: tuple[str, ...]
    bars: list[Bar]
    width: int = 640
    label_width: int = 200
    bar_height: int = 18
    gap: int = 6
    height: int = 0
    scale_max: int = 0
    ticks: list[tuple[float, int]] = field(default_factory=list)


def bar_chart(title: str, series: tuple[str, ...], rows: list[tuple[str, tuple[int, ...]]]) -> BarChart:
    """Horizontal stacked bars, one row per label."""
    chart = BarChart(title, series, [])
    plot = chart.width - chart.label_width - 40
    top = max((sum(v) for _, v in rows), default=0)
    chart.scale_max = nice_ceiling(top)
    for index, (label, values) in enumerate(rows):
        widths = tuple(plot * v / chart.scale_max if chart.scale_max else 0 for v in values)
        chart.bars.append(Bar(label, values, 24 + index * (chart.bar_height + chart.gap), widths, sum(values)))
    chart.height = 24 + len(rows) * (chart.bar_height + chart.gap) + 24
    step = max(1, chart.scale_max // 4) if chart.scale_max else 1
    chart.ticks = (
        [(chart.label_width + plot * t / chart.scale_max, t) for t in range(0, chart.scale_max + 1, step)]
        if chart.scale_max
        else []
    )
    return chart


def nice_ceiling(value: int) -> int:
    if value <= 0:
        return 0
    for candidate in (4, 8, 10, 20, 40, 50, 100, 200, 400, 500, 1000, 2000, 4000, 5000, 10000):
        if value <= candidate:
            return candidate
    return value


@dataclass
class LineChart:
    title: str
    series: list[tuple[str, list[tuple[float, float]]]]  # name, points in SVG coordinates
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, int]]
    today_x: float | None
    table: list[tuple[date, tuple[int, ...]]]
    width: int = 640
    height: int = 260
    left: int = 40
    bottom: int = 230
    top: int = 20


def progress_chart(
    title: str,
    start: date,
    end: date,
    due: list[tuple[date, bool]],
    today: date,
    labels: tuple[str, str],
    month_label,
) -> LineChart:
    """Cumulative milestones due by each week and, of those, done: the campaign's progress."""
    weeks = []
    day = start
    while day <= end + timedelta(days=6):
        weeks.append(day)
        day += timedelta(days=7)
    rows = []
    for week in weeks:
        planned = sum(1 for d, _ in due if d <= week)
        done = sum(1 for d, is_done in due if d <= week and is_done)
        rows.append((week, (planned, done)))
    chart = LineChart(title, [], [], [], None, rows)
    total = nice_ceiling(max((r[1][0] for r in rows), default=0)) or 1
    span = max(1, (weeks[-1] - weeks[0]).days) if weeks else 1
    plot_w = chart.width - chart.left - 20
    plot_h = chart.bottom - chart.top

    def x(d: date) -> float:
        return chart.left + plot_w * (d - weeks[0]).days / span

    def y(v: int) -> float:
        return chart.bottom - plot_h * v / total

    for index, name in enumerate(labels):
        chart.series.append((name, [(round(x(d), 1), round(y(v[index]), 1)) for d, v in rows]))
    seen_months = set()
    for d in weeks:
        key = (d.year, d.month)
        if key not in seen_months:
            seen_months.add(key)
            chart.x_labels.append((round(x(d), 1), month_label(d)))
    chart.y_ticks = [(round(y(v), 1), v) for v in range(0, total + 1, max(1, total // 4))]
    if weeks and weeks[0] <= today <= weeks[-1]:
        chart.today_x = round(x(today), 1)
    return chart


def as_date(value: datetime, tz) -> date:
    return value.astimezone(tz).date()
