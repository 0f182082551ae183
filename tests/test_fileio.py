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
