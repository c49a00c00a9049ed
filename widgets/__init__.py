"""The war room's panes: one module per pane, each diffing its data into the screen."""

from widgets.alerts import AlertsPane
from widgets.banner import Banner
from widgets.database import DatabasePane
from widgets.endpoints import EndpointsPane
from widgets.pane import Pane
from widgets.pods import PodsPane
from widgets.slow_queries import SlowQueriesPane
from widgets.sparkline import spark_text
from widgets.table import ColumnSpec, DiffTable
from widgets.timeline import TimelineItem, TimelinePane

__all__ = [
    "AlertsPane",
    "Banner",
    "ColumnSpec",
    "DatabasePane",
    "DiffTable",
    "EndpointsPane",
    "Pane",
    "PodsPane",
    "SlowQueriesPane",
    "TimelineItem",
    "TimelinePane",
    "spark_text",
]
