"""MiGA 2025 package converter: <vid4>_openpose.xlsx (or .csv) + <vid4>_label.csv."""

from __future__ import annotations

import argparse
import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mgproto.commands.convert import FORMATS
from mgproto.data.converters import miga2025
from mgproto.data.layouts import get_layout

OP137 = get_layout("openpose137")
IM36 = get_layout("imigue36")
IM22 = get_layout("imigue22")


def frame_values(t: int) -> list[float | None]:
    """411 values of frame t: right wrist (111, 222), right pinky tip (333, 444)."""
    values = np.zeros((137, 3))
    values[:] = [100 + t, 50, 0.5]
    values[OP137.index("right_wrist")] = [111, 222, 0.9]
    values[OP137.index("right_pinky_tip")] = [333, 444, 0.8]
    values[OP137.index("left_eye")] = [0, 0, 0]
    out: list[float | None] = values.ravel().tolist()
    if t == 1:
        i = OP137.index("nose") * 3
        out[i : i + 3] = [None, None, None]  # empty cells
    return out


def write_xlsx(path: Path, frames: int, *, header: bool = False, index: bool = False) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    if header:
        sheet.append(([None] if index else []) + [f"v{j}" for j in range(411)])
    for t in range(frames):
        sheet.append(([t] if index else []) + frame_values(t))
    book.save(path)


def write_csv(path: Path, frames: int) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        for t in range(frames):
            writer.writerow(["" if v is None else f"{v:g}" for v in frame_values(t)])


def make_video(root: Path, vid4: str, *, frames: int, labels: list[str], kind: str = "xlsx",
               **kwargs: bool) -> Path:  # fmt: skip
    folder = root / vid4
    folder.mkdir(parents=True)
    if kind == "xlsx":
        write_xlsx(folder / f"{vid4}_openpose.xlsx", frames, **kwargs)
    else:
        write_csv(folder / f"{vid4}_openpose.csv", frames)
    (folder / f"{vid4}_label.csv").write_text("\n".join(labels) + "\n")
    return folder


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    pytest.importorskip("openpyxl")
    labels = ["5,0,2", "99,3,4", "40,0,1", "1,50,60"]
    make_video(tmp_path / "imigue_skeleton_train", "0054", frames=5, labels=labels)
    make_video(tmp_path / "imigue_skeleton_train", "0067", frames=3, labels=["3,0,2"],
               header=True, index=True)  # fmt: skip
    make_video(tmp_path / "imigue_skeleton_test", "0069", frames=3, labels=["2,1,2"], kind="csv")
    return tmp_path


def test_clips_labels_shapes_coordinates(package: Path) -> None:
    ann, report = miga2025.convert([package])
    by_name = {r["frame_dir"]: r for r in ann.annotations}
    assert sorted(by_name) == ["0054_0", "0054_1", "0067_0", "0069_0"]
    assert [by_name[n]["label"] for n in ("0054_0", "0054_1", "0067_0", "0069_0")] == [4, 31, 2, 1]
    for name in by_name:
        rec = by_name[name]
        assert rec["keypoint"].shape[::2] == (1, 36) and rec["img_shape"] == (720, 1280)
        kp, score = rec["keypoint"][0], rec["keypoint_score"][0]
        np.testing.assert_allclose(kp[:, IM36.index("right_wrist")], [[111, 222]] * len(kp))
        np.testing.assert_allclose(kp[0, IM36.index("right_pinky_tip")], [333, 444])
        assert score[0, IM36.index("right_pinky_tip")] == pytest.approx(0.8)
        assert score[0, IM36.index("left_eye")] == 0
    first = by_name["0054_0"]
    assert first["total_frames"] == 3
    np.testing.assert_allclose(first["keypoint"][0, 2, IM36.index("chin")], [102, 50])
    assert first["keypoint_score"][0, 1, IM36.index("nose")] == 0  # empty cells
    np.testing.assert_allclose(first["keypoint"][0, 1, IM36.index("nose")], [0, 0])
    # header row and index column dropped: frame 0 of 0067 is the first data row
    np.testing.assert_allclose(by_name["0067_0"]["keypoint"][0, 2, IM36.index("chin")], [102, 50])
    np.testing.assert_allclose(by_name["0069_0"]["keypoint"][0, 0, IM36.index("chin")], [101, 50])
    reasons = {w.split()[0]: r for w, r in report.skipped}
    assert "unknown iMiGUE class id 40" in reasons["0054_2"]
    assert "outside the sequence" in reasons["0054_3"]
    assert ann.split == {"train": ["0054_0", "0054_1", "0067_0"], "test": ["0069_0"]}


def test_cli_layouts(package: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    FORMATS["miga2025"].add_arguments(parser)
    for layout, v in (("openpose137", 137), ("imigue22", 22)):
        args = parser.parse_args(
            ["--split-root", f"val={package / 'imigue_skeleton_test'}", "--layout", layout,
             "-o", str(tmp_path / "o.pkl")]
        )  # fmt: skip
        ann, _ = FORMATS["miga2025"].run(args)
        assert ann.split == {"val": ["0069_0"]} and ann.meta["layout"] == layout
        assert ann.annotations[0]["keypoint"].shape == (1, 2, v, 2)
    np.testing.assert_allclose(
        ann.annotations[0]["keypoint"][0, 0, IM22.index("right_pinky_tip")], [333, 444]
    )


def test_read_xlsx_cells_and_shared_strings(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["C1"] = "name", 1.5
    sheet["AB3"] = 7
    book.save(tmp_path / "s.xlsx")
    rows = miga2025.read_xlsx(tmp_path / "s.xlsx")
    assert rows[0] == ["name", None, "1.5"]
    assert rows[1] == []
    assert len(rows[2]) == 28 and rows[2][27] == "7" and rows[2][0] is None
    assert miga2025.column_index("AB") == 27 and miga2025.column_name(27) == "AB"


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def test_xlsx_written_by_hand(tmp_path: Path) -> None:
    """Inline and shared strings, a formula cell, cells without references, a named sheet."""
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
        '<row r="1"><c r="B1" t="inlineStr"><is><t>hi</t></is></c><c r="C1" t="s"><v>0</v></c>'
        '</row><row><c><v>3</v></c><c r="C2"><f>A2+1</f><v>4</v></c><c t="e"><v>#N/A</v></c>'
        "</row></sheetData></worksheet>"
    )
    book = (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
        '<sheet name="frames" sheetId="1" r:id="rId7"/></sheets></workbook>'
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId7" Type="worksheet" Target="worksheets/frames.xml"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(tmp_path / "m.xlsx", "w") as z:
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/frames.xml", sheet)
        z.writestr("xl/worksheets/sheet2.xml", f'<worksheet xmlns="{MAIN_NS}"/>')
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN_NS}"><si><t>x</t></si></sst>')
    rows = miga2025.read_xlsx(tmp_path / "m.xlsx")
    assert rows == [[None, "hi", "x"], ["3", None, "4", None]]


def test_wrong_column_count_and_bad_cells(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"s.csv: 75 columns, expected 411"):
        miga2025.sheet_values([["1"] * 75], source="s.csv")
    rows = [["1"] * 411, ["1"] * 410 + ["oops"]]
    with pytest.raises(ValueError, match=r"s.csv: row 2, column OU: 'oops' is not a number"):
        miga2025.sheet_values(rows, source="s.csv")
    (tmp_path / "bad.xlsx").write_text("not a zip")
    with pytest.raises(ValueError, match=r"bad.xlsx: not a readable .xlsx"):
        miga2025.read_xlsx(tmp_path / "bad.xlsx")


def test_missing_files(package: Path) -> None:
    folder = package / "imigue_skeleton_test" / "0069"
    (folder / "0069_label.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"0069_label.csv: label file not found"):
        miga2025.convert([package])
    (folder / "0069_label.csv").write_text("2,1,2\n")
    (folder / "0069_openpose.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"0069_openpose.xlsx: skeleton file not found"):
        miga2025.convert([package])


def write_sheet(path: Path, rows_xml: str, *, shared: str = "") -> Path:
    """A minimal .xlsx: one worksheet with ``rows_xml`` as its sheetData."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows_xml}</sheetData></worksheet>',
        )
        if shared:
            z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN_NS}">{shared}</sst>')
    return path


def test_first_row_with_one_bad_cell_is_data_not_a_header() -> None:
    rows = [["1"] * 410 + ["oops"], ["2"] * 411]
    with pytest.raises(ValueError, match=r"s.csv: row 1, column OU: 'oops' is not a number"):
        miga2025.sheet_values(rows, source="s.csv")
    words = [[f"x{j}" for j in range(411)], ["2"] * 411]
    numbered = [["frame", *map(str, range(411))], ["0", *["2"] * 411]]
    for rows in (words, numbered):
        assert miga2025.sheet_values(rows, source="s.csv").shape == (1, 137, 3)


@pytest.mark.parametrize(
    ("rows_xml", "message"),
    [
        ('<row r="1"><c r="ZZZZZZZZZZ99999999999"><v>1</v></c></row>',
         r"cell reference 'ZZZZZZZZZZ99999999999' is not in columns A \.\. OV"),
        ('<row r="1"><c r="OW1"><v>1</v></c></row>', r"'OW1' is not in columns A \.\. OV"),
        ('<row r="99999999999"><c r="A1"><v>1</v></c></row>', r"row number 99999999999 is not"),
        ('<row r="1"><c><v>1</v></c></row><row r="1"><c><v>2</v></c></row>',
         r"row number 1 repeats an earlier row"),
        ('<row r="1"><c t="s"><v>-1</v></c></row>', r"shared string -1 does not exist"),
        ('<row r="1"><c r="OU1"><v>1</v></c></row><row r="50000"><c r="OU9"><v>1</v></c></row>',
         r"frame numbers run from 0 to 49999 \(50000 frames\) but only 2"),
    ],
)  # fmt: skip
def test_sheet_sizes_are_checked_before_allocation(
    tmp_path: Path, rows_xml: str, message: str
) -> None:
    folder = tmp_path / "0054"
    folder.mkdir()
    write_sheet(folder / "0054_openpose.xlsx", rows_xml, shared="<si><t>x</t></si>")
    with pytest.raises(ValueError, match=r"0054_openpose.xlsx: .*" + message):
        miga2025.read_openpose_sheet(folder)


def test_blank_csv_lines_may_not_outnumber_frames(tmp_path: Path) -> None:
    folder = tmp_path / "0054"
    folder.mkdir()
    (folder / "0054_openpose.csv").write_text(",".join(["1"] * 411) + "\n" * 5000 + "1\n")
    with pytest.raises(ValueError, match=r"0054_openpose.csv: frame numbers run from 0 to 5000"):
        miga2025.read_openpose_sheet(folder)
