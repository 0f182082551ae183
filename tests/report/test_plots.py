"""Figures of a run: what the confusion matrix shows."""

from __future__ import annotations

import numpy as np

from mgproto.report.plots import confusion_cells, plot_confusion


def test_confusion_cells_are_row_shares_like_the_colours():
    cm = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 4]])
    shares, texts = confusion_cells(cm)
    np.testing.assert_allclose(shares, [[0.75, 0.25, 0], [0, 0, 0], [0.25, 0.25, 0.5]])
    assert texts == [["75", "25", ""], ["", "", ""], ["25", "25", "50"]]


def test_the_title_says_what_the_cells_show(tmp_path, monkeypatch):
    from mgproto.report import plots

    drawn = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.append(fig) or path)
    plot_confusion(np.array([[3, 1], [0, 2]]), tmp_path / "c.png", class_names=["a", "b"],
                   title="pose: confusion")  # fmt: skip
    (ax,) = drawn[0].axes
    assert ax.get_title() == "pose: confusion (% of each true class)"
    assert sorted(t.get_text() for t in ax.texts) == ["100", "25", "75"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (4)", "b (2)"]


def test_plot_confusion_writes_a_png(tmp_path):
    path = plot_confusion(np.array([[3, 1], [0, 2]]), tmp_path / "c.png", class_names=["a", "b"])
    assert path.read_bytes()[:4] == b"\x89PNG"
