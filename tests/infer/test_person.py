"""Choosing and following the main person: pure box logic on synthetic boxes (no MediaPipe)."""

from __future__ import annotations

import numpy as np
import pytest

from mgproto.cli import main
from mgproto.infer.person import (
    PersonTracker,
    blank_region,
    box_iou,
    choose_person,
    expand_box,
    format_box,
    keep_region,
    parse_person,
    person_box,
)

SHAPE = (480, 640)  # (H, W)
CENTRED_SMALL = np.array([300.0, 220.0, 340.0, 260.0])  # centre (320, 240) = the frame's
CORNER_LARGE = np.array([0.0, 0.0, 200.0, 300.0])


def test_parse_person():
    assert parse_person("largest") == "largest" and parse_person(" center ") == "center"
    assert parse_person("10,20,30.5,40") == (10, 20, 30.5, 40)
    for bad in ("big", "1,2,3", "1,2,0,4", "a,b,c,d", "1,2,nan,4"):
        with pytest.raises(ValueError, match="person"):
            parse_person(bad)


def test_bad_person_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["extract-pose", "v.mp4", "-o", str(tmp_path / "o.pkl"), "--person", "tallest"])
    assert exit_.value.code == 2
    assert "--person" in capsys.readouterr().err


def test_box_iou_known_values():
    a = np.array([0.0, 0.0, 2.0, 2.0])
    assert box_iou(a, a) == 1.0
    assert box_iou(a, np.array([1.0, 0.0, 3.0, 2.0])) == pytest.approx(2 / 6)
    assert box_iou(a, np.array([2.0, 0.0, 4.0, 2.0])) == 0.0  # touching edges
    assert box_iou(a, np.array([5.0, 5.0, 5.0, 9.0])) == 0.0  # no area


def test_person_box_clips_to_the_frame():
    xy = np.array([[100, 50], [300, 700], [-20, 200]], np.float32)  # a leg below the frame
    assert person_box(xy, SHAPE).tolist() == [0, 50, 300, 480]
    assert person_box(np.array([[700.0, 10.0], [800.0, 20.0]]), SHAPE) is None  # right of it
    assert format_box(np.array([0.4, 50.0, 300.2, 480.0])) == "0,50,300,430"


def test_expand_box_grows_by_the_longer_side_and_stays_inside():
    box = np.array([100.0, 100.0, 140.0, 200.0])  # 40 x 100
    assert expand_box(box, 0.25, SHAPE).tolist() == [75, 75, 165, 225]
    assert expand_box(box, 2.0, SHAPE).tolist() == [0, 0, 340, 400]


def test_choose_person_rules():
    boxes = [CENTRED_SMALL, CORNER_LARGE]
    assert choose_person(boxes, "largest", img_shape=SHAPE) == 1
    assert choose_person(boxes, "center", img_shape=SHAPE) == 0
    assert choose_person(boxes, (310, 230, 100, 100), img_shape=SHAPE) == 0  # x, y, w, h
    assert choose_person(boxes, (150, 0, 200, 240), img_shape=SHAPE) == 1  # overlaps both
    assert choose_person(boxes, (500, 400, 50, 50), img_shape=SHAPE) is None  # nobody there
    assert choose_person([], "largest", img_shape=SHAPE) is None
    with pytest.raises(ValueError, match="unknown person rule"):
        choose_person(boxes, "tallest", img_shape=SHAPE)


def _moved(box: np.ndarray, dx: float) -> np.ndarray:
    return box + np.array([dx, 0, dx, 0])


def test_tracker_default_keeps_a_jump_and_notes_the_frame():
    tracker = PersonTracker(min_iou=0.1)
    a, b = CORNER_LARGE, _moved(CORNER_LARGE, 400)  # b does not overlap a
    assert tracker.update(0, a) and tracker.update(1, _moved(a, 10))  # moving a little
    assert tracker.switches == []
    assert tracker.update(7, b)  # kept (MediaPipe's choice), but noted
    assert tracker.update(8, _moved(b, 5)) and tracker.switches == [7]
    assert tracker.update(9, a) and tracker.switches == [7, 9]
    assert tracker.box.tolist() == a.tolist()


def test_tracker_follow_rejects_other_people_and_keeps_the_subject():
    tracker = PersonTracker(min_iou=0.1, follow=True, box=CORNER_LARGE)
    assert not tracker.update(3, _moved(CORNER_LARGE, 400))
    assert tracker.box.tolist() == CORNER_LARGE.tolist() and tracker.switches == []
    assert tracker.update(4, _moved(CORNER_LARGE, 30))
    assert tracker.box.tolist() == _moved(CORNER_LARGE, 30).tolist()


def test_keep_and_blank_region():
    frame = np.full((4, 6, 3), 9, np.uint8)
    box = np.array([1.2, 1.0, 3.0, 2.5])  # x 1..3, y 1..3 after rounding outwards
    kept, blanked = keep_region(frame, box), blank_region(frame, box)
    inside = np.zeros((4, 6), bool)
    inside[1:3, 1:3] = True
    assert (kept[inside] == 9).all() and (kept[~inside] == 0).all()
    assert (blanked[inside] == 0).all() and (blanked[~inside] == 9).all()
    assert (frame == 9).all()  # the input is untouched
