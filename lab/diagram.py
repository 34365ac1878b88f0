"""The picture of the pipeline the workbook builds, with the lab's real names (lesson 00).

The figure is a ``matplotlib.figure.Figure`` of :data:`FIGSIZE`, made without pyplot's global
figure list, so a notebook cell that ends with ``diagram.show_pipeline(cloud)`` shows it exactly
once; it draws the same boxes, arrows and texts on every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lab.names import Names

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGSIZE = (8, 3.5)
TITLE = "What you will build (numbers: the lesson that builds each part)"
_BOX = (3.8, 1.9)  # width, height in data units; the axes span 15.8 × 6.9
_INK = "#333333"
_NOTE = "#555555"


def _boxes(names: Names) -> list[tuple[float, float, str, str, str, str]]:
    """(x, y, colour, service, resource, lesson) for each box, top row left to right first."""
    return [
        (0.1, 4.2, "#3F8624", "S3 bucket", "your upload", "05"),
        (6.0, 4.2, "#ED7100", "Lambda", names.function, "04"),
        (11.9, 4.2, "#2E73B8", "DynamoDB", names.table, "02"),
        (0.1, 0.4, "#5A6B86", "Email", names.email, "01"),
        (6.0, 0.4, "#C7157A", "SNS topic", names.topic, "01"),
        (11.9, 0.4, "#B0084D", "CloudWatch alarms", "write activity + throttle", "06"),
    ]


# (start, end, label, label offset, label alignment): the flow of one upload.
_ARROWS = (
    ((4.0, 5.15), (5.95, 5.15), "ObjectCreated:*", (0, 0.25), "center"),
    ((9.9, 5.15), (11.85, 5.15), "PutItem", (0, 0.25), "center"),
    ((13.8, 4.15), (13.8, 2.35), "metrics:\nwrites,\nthrottles", (0.2, 0), "left"),
    ((11.85, 1.35), (9.9, 1.35), "ALARM / OK", (0, 0.25), "center"),
    ((5.95, 1.35), (4.0, 1.35), "email", (0, 0.25), "center"),
)


def load_backend() -> None:
    """Load matplotlib's configured backend module (in Jupyter: the inline one).

    matplotlib loads its backend lazily, at the first pyplot figure; until then Jupyter has no way
    to draw a Figure that a cell returns and shows only its text. Loading the inline backend
    registers the drawing; elsewhere (a script, the tests) there is nothing to load.
    """
    import importlib

    import matplotlib

    backend = matplotlib.get_backend()
    if backend.startswith("module://"):
        importlib.import_module(backend.removeprefix("module://"))


def show_pipeline(cloud: Any = None) -> Figure:
    """Draw S3 → Lambda → DynamoDB → CloudWatch → SNS → email with the lab's resource names.

    Args:
        cloud: the connection made by ``connect()``, whose ``names`` label the boxes; without it
            the seed lab's names are used.

    Returns:
        The figure (a notebook cell that ends with it shows it).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    load_backend()
    names = cloud.names if cloud is not None else Names()
    width, height = _BOX
    figure = Figure(figsize=FIGSIZE)
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9)
    axes = figure.subplots()
    axes.set(xlim=(0, 15.8), ylim=(0, 6.9))
    axes.axis("off")
    for x, y, colour, service, resource, lesson in _boxes(names):
        axes.add_patch(FancyBboxPatch((x, y), width, height,
                                      boxstyle="round,pad=0.05,rounding_size=0.25",
                                      facecolor=colour, edgecolor="none", alpha=0.9))
        axes.text(x + width / 2, y + height * 0.62, service, ha="center", va="center",
                  color="white", fontsize=9, fontweight="bold")
        axes.text(x + width / 2, y + height * 0.28, resource, ha="center", va="center",
                  color="white", fontsize=7)
        axes.text(x + 0.12, y + height - 0.12, lesson, ha="left", va="top", color="white",
                  fontsize=6.5)
    for start, end, label, (dx, dy), align in _ARROWS:
        axes.annotate("", xy=end, xytext=start,
                      arrowprops={"arrowstyle": "-|>", "color": _INK, "lw": 1.4})
        axes.text((start[0] + end[0]) / 2 + dx, (start[1] + end[1]) / 2 + dy, label,
                  ha=align, va="center", fontsize=7, color=_INK)
    axes.text(7.9, 3.55, f"runs as role {names.role} (03)", ha="center", fontsize=7,
              color=_NOTE, style="italic")
    axes.text(7.9, 3.0, f"writes its logs to {names.log_group} (04)", ha="center", fontsize=7,
              color=_NOTE, style="italic")
    axes.set_title(TITLE, fontsize=9)
    return figure
