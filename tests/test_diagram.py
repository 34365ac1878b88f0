"""lab.diagram: the pipeline picture of lesson 00 — one figure, fixed size, the lab's names."""

from __future__ import annotations

import io

from matplotlib.figure import Figure
from matplotlib.text import Annotation

from lab import diagram
from lab.names import Names


def _texts(figure: Figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].texts]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def test_the_pipeline_is_one_figure_of_the_fixed_size_not_kept_by_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figure = diagram.show_pipeline()
    assert isinstance(figure, Figure)
    assert tuple(figure.get_size_inches()) == diagram.FIGSIZE == (8, 3.5)
    assert len(figure.axes) == 1 and figure.axes[0].get_title() == diagram.TITLE
    assert plt.get_fignums() == before  # a cell ending with it shows it once, never twice


def test_the_boxes_arrows_and_notes_carry_the_seed_names_and_lessons():
    texts = _texts(diagram.show_pipeline())
    names = Names()
    for service in ("S3 bucket", "Lambda", "DynamoDB", "Email", "SNS topic", "CloudWatch alarms"):
        assert service in texts
    for name in (names.function, names.table, names.topic, names.email):
        assert name in texts
    for label in ("ObjectCreated:*", "PutItem", "ALARM / OK", "email"):
        assert label in texts
    assert f"runs as role {names.role} (03)" in texts
    assert f"writes its logs to {names.log_group} (04)" in texts
    assert sorted(t for t in texts if t.isdigit()) == ["01", "01", "02", "04", "05", "06"]


def test_six_boxes_and_five_arrows():
    axes = diagram.show_pipeline().axes[0]
    assert len(axes.patches) == 6
    assert len([text for text in axes.texts if isinstance(text, Annotation)]) == 5


def test_the_connection_names_label_the_boxes(lab_moto):
    from dataclasses import replace

    lab_moto.names = replace(lab_moto.names, table="MyEvents", email="me@example.org")
    texts = _texts(diagram.show_pipeline(lab_moto))
    assert "MyEvents" in texts and "me@example.org" in texts
    assert "S3ObjectEvents" not in texts


def test_the_drawing_is_deterministic():
    assert _png(diagram.show_pipeline()) == _png(diagram.show_pipeline())


def test_jupyters_inline_backend_is_loaded_so_the_returned_figure_is_drawn(monkeypatch):
    import importlib

    import matplotlib

    loaded = []
    monkeypatch.setattr(matplotlib, "get_backend",
                        lambda: "module://matplotlib_inline.backend_inline")
    monkeypatch.setattr(importlib, "import_module", lambda name: loaded.append(name))
    diagram.show_pipeline()
    assert loaded == ["matplotlib_inline.backend_inline"]
