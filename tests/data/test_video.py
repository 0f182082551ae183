import numpy as np
import pytest

from mgproto.data.video import VideoError, probe_video, read_frames, write_video


def _coded_frames(num: int, h: int = 48, w: int = 64) -> np.ndarray:
    """Frames whose red channel encodes their index (4 * i), green the inverse."""
    frames = np.zeros((num, h, w, 3), np.uint8)
    for i in range(num):
        frames[i, ..., 0] = (4 * i) % 256
        frames[i, ..., 1] = 255 - (4 * i) % 256
    return frames


def _index_of(frame: np.ndarray) -> int:
    return round(float(frame[..., 0].mean()) / 4)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    return write_video(path, _coded_frames(40), fps=25)


def test_probe(clip):
    info = probe_video(clip)
    assert (info.num_frames, info.height, info.width) == (40, 48, 64)
    assert info.fps == pytest.approx(25)
    assert probe_video(clip, count=True).num_frames == 40


def test_read_any_order_with_repeats(clip):
    idx = [7, 0, 39, 7, 20]
    frames = read_frames(clip, idx)
    assert frames.shape == (5, 48, 64, 3) and frames.dtype == np.uint8
    assert [_index_of(f) for f in frames] == idx


@pytest.mark.parametrize("fps", [29.97, 12.5])
def test_long_video_with_start_frame_and_odd_rates(tmp_path, fps):
    path = write_video(tmp_path / "long.mp4", _coded_frames(400, 32, 32) // 1, fps=fps)
    # indices past SEEK_THRESHOLD use a key-frame seek and timestamps
    frames = read_frames(path, [0, 5, 30], start_frame=330)
    assert [_index_of(f) % 64 for f in frames] == [(330 + i) % 64 for i in (0, 5, 30)]
    early = read_frames(path, [1, 2], start_frame=10)
    assert [_index_of(f) for f in early] == [11, 12]


def test_fewer_frames_than_asked(clip):
    with pytest.raises(VideoError, match=r"clip\.mp4: frame 45 cannot be decoded"):
        read_frames(clip, [3, 45])


def test_missing_empty_and_corrupt_files(tmp_path, clip):
    with pytest.raises(VideoError, match=r"nope\.mp4: video file not found"):
        read_frames(tmp_path / "nope.mp4", [0])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoError, match=r"empty\.mp4: empty file"):
        probe_video(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(VideoError, match=r"junk\.mp4: not a readable video"):
        read_frames(junk, [0])
    truncated = tmp_path / "trunc.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    with pytest.raises(VideoError, match=r"trunc\.mp4"):
        read_frames(truncated, [39])


def test_write_checks_and_atomicity(tmp_path):
    with pytest.raises(ValueError, match="must be even"):
        write_video(tmp_path / "odd.mp4", np.zeros((2, 5, 6, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "f.mp4", np.zeros((2, 4, 6, 3), np.float32))
    assert list(tmp_path.iterdir()) == []
