import os

import pytest

from mgproto.fileio import (
    InputError,
    OutputError,
    atomic_write_bytes,
    check_input,
    check_output,
    clean_stale_temps,
)


def test_check_input_names_each_problem(tmp_path):
    with pytest.raises(InputError, match=r"gone.pt: checkpoint not found"):
        check_input(tmp_path / "gone.pt", what="checkpoint")
    with pytest.raises(InputError, match=r"is a folder, expected a checkpoint"):
        check_input(tmp_path, what="checkpoint")
    (tmp_path / "zero").write_bytes(b"")
    with pytest.raises(InputError, match=r"zero: the score file is empty \(0 bytes\)"):
        check_input(tmp_path / "zero", what="score file")
    assert check_input(tmp_path / "zero", allow_empty=True) == tmp_path / "zero"


def test_check_output_policy(tmp_path):
    src = tmp_path / "in.npz"
    src.write_bytes(b"x")
    with pytest.raises(OutputError, match="is also an input of this command"):
        check_output(tmp_path / "sub" / ".." / "in.npz", inputs=[str(src)])
    link = tmp_path / "link.npz"
    link.symlink_to(src)
    with pytest.raises(OutputError, match="is also an input"):
        check_output(link, inputs=[src], force=True)
    with pytest.raises(OutputError, match="already exists; pass --force"):
        check_output(src, force=False)
    assert check_output(src, force=True) == src and check_output(src) == src
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OutputError, match="is not a regular file"):
        check_output(tmp_path / "fifo", force=True)
    with pytest.raises(OutputError, match="in.npz is a file, not a folder"):
        check_output(src / "deeper" / "out.zip")
    assert check_output(tmp_path / "new" / "deeper" / "out.zip").name == "out.zip"


def test_atomic_write_refuses_devices_and_keeps_them(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OutputError, match="not a regular file"):
        atomic_write_bytes(tmp_path / "fifo", b"data")
    assert (tmp_path / "fifo").is_fifo() and list(tmp_path.iterdir()) == [tmp_path / "fifo"]


def test_stale_temp_files_of_dead_writers_are_cleaned(tmp_path):
    dead = tmp_path / ".x.pt.pid999999999.abc.tmp"  # no such process
    mine = tmp_path / f".x.pt.pid{os.getpid()}.def.tmp"  # a live writer's (ours)
    other = tmp_path / ".y.pt.pid999999999.abc.tmp"  # another target's
    for p in (dead, mine, other):
        p.write_bytes(b"half")
    atomic_write_bytes(tmp_path / "x.pt", b"whole")
    assert not dead.exists() and mine.exists() and other.exists()
    assert (tmp_path / "x.pt").read_bytes() == b"whole"
    assert clean_stale_temps(tmp_path / "y.pt") == [other]


def test_unwritable_folder_and_unreadable_file_are_one_line(tmp_path, monkeypatch):
    import builtins
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as m:  # root ignores permission bits: simulate the OS refusing
        m.setattr(tempfile, "mkstemp", denied)
        with pytest.raises(OutputError, match=r"out.npz: cannot write here \(Permission denied\)"):
            atomic_write_bytes(tmp_path / "out.npz", b"x")
    (tmp_path / "in.pt").write_bytes(b"x")
    real_open = builtins.open
    with monkeypatch.context() as m:
        m.setattr(builtins, "open", lambda p, *a, **k: denied() if str(p).endswith("in.pt")
                  else real_open(p, *a, **k))  # fmt: skip
        with pytest.raises(InputError, match=r"in.pt: cannot read the checkpoint"):
            check_input(tmp_path / "in.pt", what="checkpoint")


def test_cli_prints_os_errors_as_one_line(monkeypatch, capsys):
    from mgproto import cli

    def full(args):
        raise OSError(28, "No space left on device", "/data/out.npz")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    sub = next(a for a in parser._actions if a.dest == "verb")
    sub.choices["inspect"].set_defaults(func=full)
    assert cli.main(["inspect", "x.pkl"]) == 2
    assert capsys.readouterr().err == (
        "mgproto inspect: error: /data/out.npz: No space left on device\n"
    )


def test_check_outputs_checks_every_file_against_every_input_by_identity(tmp_path):
    """A verb's output folder: each file it writes is compared with each input, by path and by
    file identity (a hard link or symlink to an input is that input)."""
    from mgproto.fileio import check_outputs

    video = tmp_path / "in.mp4"
    video.write_bytes(b"video")
    out = tmp_path / "out"
    out.mkdir()
    os.link(video, out / "scores.npz")  # a hard link: another path, the same file
    files = [out / "timeline.json", out / "scores.npz"]
    with pytest.raises(OutputError, match=r"out/scores.npz: is also an input .*in.mp4\); move"):
        check_outputs(files, inputs=[None, "", video], hint="move")
    (out / "scores.npz").unlink()
    (out / "annotated.mp4").symlink_to(video)
    with pytest.raises(OutputError, match="annotated.mp4: is also an input"):
        check_outputs([*files, out / "annotated.mp4"], inputs=[video])
    assert check_outputs(files, inputs=[video]) == files  # nothing there is an input
    assert video.read_bytes() == b"video"


def test_files_found_under_an_input_folder_are_inputs(tmp_path):
    """A folder the command scans: an existing file under it (or reached through a symlinked
    folder inside it) is an input; a new file, or one elsewhere, is not."""
    root = tmp_path / "dataset"
    (root / "0054").mkdir(parents=True)
    label = root / "0054" / "0054_label.csv"
    label.write_text("5,0,2\n")
    elsewhere = tmp_path / "elsewhere" / "0004"
    elsewhere.mkdir(parents=True)
    (elsewhere / "0004_label.csv").write_text("2,0,2\n")
    (root / "0004").symlink_to(elsewhere, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)  # walked once, not forever
    for taken in (label, elsewhere / "0004_label.csv"):
        with pytest.raises(OutputError, match=r"a file under the input folder .*dataset\)"):
            check_output(taken, input_folders=[root], force=True)
    assert check_output(root / "new.pkl", input_folders=[root]) == root / "new.pkl"
    other = tmp_path / "other.pkl"
    other.write_bytes(b"x")
    assert check_output(other, input_folders=[root], force=True) == other


def test_temp_files_are_named_for_their_writer_and_cleaned_by_target(tmp_path):
    from mgproto.fileio import clean_stale_temps_in, temp_file

    tmp = temp_file(tmp_path / "videos" / "s00_0002.mp4", suffix=".tmp.mp4")
    assert tmp.name.startswith(f".s00_0002.mp4.pid{os.getpid()}.") and tmp.suffix == ".mp4"
    dead = tmp_path / "videos" / ".s00_0003.mp4.pid999999999.k3j9x0ab.tmp.mp4"
    foreign = tmp_path / "videos" / ".s00_0004.mp4.pid999999999.k3j9x0ab.tmp.mp4"
    notes = tmp_path / "videos" / ".s00_0003.mp4.notes"  # hidden, but not a writer's temp
    for p in (dead, foreign, notes):
        p.write_bytes(b"half")
    ours = {"s00_0002.mp4", "s00_0003.mp4"}.__contains__
    assert clean_stale_temps_in(tmp_path / "videos", targets=ours) == [dead]
    assert tmp.exists() and foreign.exists() and notes.exists()  # alive / not ours / not a temp
    assert clean_stale_temps_in(tmp_path / "missing") == []
