"""Video decoding and encoding with PyAV.

Frames are read by index and decoded *sequentially*: the decoder visits each needed frame once in
order (no per-frame seeking, which costs 3-10x on long-GOP H.264). For a long video read from
``start_frame`` on, it seeks once to the key frame before the first needed frame and counts
frames by timestamp from there. Frame ``i`` of a clip is the i-th frame the decoder yields
(presentation order), which is also how pose estimators number frames.

Axis legend: T frames, H/W rows/columns.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from mgproto.fileio import check_output, file_mode, temp_file, write_failure

# Below this many frames into the file, decode from the start and count (exact for any stream);
# beyond it, seek to the previous key frame and number frames by their timestamps.
SEEK_THRESHOLD = 300
# Frames up to this many pixels decode on one thread: FFmpeg's worker threads cost more than they
# save on small frames (synthetic 128x128 clips: 8.5 vs 9.5 ms per clip), and data-loader workers
# already use the cores. Larger frames keep FFmpeg's default threading.
SINGLE_THREAD_PIXELS = 320 * 240


class VideoError(ValueError):
    """A video that is missing, unreadable or shorter than asked; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video.

    Attributes:
        num_frames: frames in the stream (the container's count, or counted by decoding).
        fps: average frame rate.
        height, width: frame size.
    """

    path: str
    num_frames: int
    fps: float
    height: int
    width: int


def open_video(path: str | Path) -> av.container.InputContainer:
    """The opened container of a video file; VideoError (naming it) if missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: video file not found")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as err:
        raise VideoError(f"{path}: not a readable video ({err})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: no video stream")
    ctx = container.streams.video[0].codec_context
    if 0 < ctx.width * ctx.height <= SINGLE_THREAD_PIXELS:
        ctx.thread_count = 1
    return container


def _to_rgb(reformatter: VideoReformatter, frame: av.VideoFrame, **size: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame; ``reformatter`` keeps FFmpeg's scaler context
    between frames (``VideoFrame.to_ndarray`` builds a new one each call: ~3x slower)."""
    return reformatter.reformat(frame, format="rgb24", **size).to_ndarray()


def probe_video(path: str | Path, *, count: bool = False) -> VideoInfo:
    """Frame count, rate and size; ``count=True`` decodes the whole stream to count exactly."""
    with open_video(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        num = int(stream.frames or 0)
        if count or num == 0:
            num = sum(1 for _ in _decode(container, path))
        return VideoInfo(
            str(path), num, fps, stream.codec_context.height, stream.codec_context.width
        )


def _decode(container: av.container.InputContainer, path: str | Path):
    try:
        yield from container.decode(video=0)
    except av.FFmpegError as err:
        raise VideoError(f"{path}: decoding failed ({err})") from None


def _frame_number(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int | None:
    if frame.pts is None or stream.time_base is None:
        return None
    start = stream.start_time or 0
    rate = stream.average_rate or stream.guessed_rate
    return round(float((frame.pts - start) * stream.time_base * Fraction(rate)))


def read_frames(
    path: str | Path, indices: np.ndarray | list[int], *, start_frame: int = 0
) -> np.ndarray:
    """Decode frames ``start_frame + indices`` of a video.

    Args:
        path: video file.
        indices: (K,) frame indices relative to ``start_frame``, any order, repeats allowed.
        start_frame: first frame of the clip inside a long video (0 for pre-cut clips).

    Returns:
        (K, H, W, 3) uint8 RGB frames in the order of ``indices``.

    Raises:
        VideoError: missing, empty or corrupt file, or fewer decodable frames than needed
            (the message names the file and the first missing frame).
    """
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size == 0:
        raise VideoError(f"{path}: no frame indices requested")
    if idx.min() < 0:
        raise VideoError(f"{path}: negative frame index {int(idx.min())}")
    wanted = np.unique(idx + start_frame)  # sorted absolute frame numbers
    found: dict[int, np.ndarray] = {}
    reformatter = VideoReformatter()
    with open_video(path) as container:
        stream = container.streams.video[0]
        use_pts = wanted[0] >= SEEK_THRESHOLD and stream.average_rate is not None
        if use_pts:
            target = int(wanted[0] / float(stream.average_rate) / stream.time_base)
            container.seek(target + (stream.start_time or 0), stream=stream, backward=True)
        remaining = set(wanted.tolist())
        last = int(wanted[-1])
        for counter, frame in enumerate(_decode(container, path)):
            number = _frame_number(frame, stream) if use_pts else counter
            if number is None:
                raise VideoError(f"{path}: frames carry no timestamps; cannot seek in it")
            if number in remaining:
                found[number] = _to_rgb(reformatter, frame)
                remaining.discard(number)
                if not remaining:
                    break
            if number > last:
                break
    if len(found) < wanted.size:
        missing = min(set(wanted.tolist()) - set(found))
        raise VideoError(
            f"{path}: frame {missing} cannot be decoded (the stream ends or is corrupt before it; "
            f"asked for frames {int(wanted[0])}..{last})"
        )
    return np.stack([found[int(i)] for i in idx + start_frame])


def iter_frames(
    path: str | Path,
    *,
    size: tuple[int, int] | None = None,
    select: Container[int] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Decode a whole video in order: yields (frame number, (H, W, 3) uint8 RGB).

    Args:
        path: video file.
        size: (h, w) to scale every frame to while converting (FFmpeg's scaler, much cheaper
            than decoding at full size and resizing afterwards); None keeps the stored size.
        select: frame numbers to yield; the others are decoded (the codec needs them) but not
            converted, which saves most of the per-frame cost. None yields every frame.

    Raises:
        VideoError: missing, empty or corrupt file (the message names the file).
    """
    kwargs = {} if size is None else {"height": int(size[0]), "width": int(size[1])}
    reformatter = VideoReformatter()
    with open_video(path) as container:
        for number, frame in enumerate(_decode(container, path)):
            if select is None or number in select:
                yield number, _to_rgb(reformatter, frame, **kwargs)


class VideoWriter:
    """Encode RGB frames one at a time into an mp4, atomically (temp file, renamed on close).

    Use as a context manager; if the block raises, the partial file is removed and ``path`` is
    left untouched. H and W must be even for yuv420p; ``crf`` is libx264's quality (lower is
    better).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: float = 25.0,
        codec: str = "libx264",
        crf: int = 18,
        gop: int = 12,
    ) -> None:
        self.path = Path(path)
        self.fps, self.codec, self.crf, self.gop = fps, codec, crf, gop
        self._out = None
        self._stream = None
        self._tmp: str | None = None
        self.num_frames = 0

    def __enter__(self) -> VideoWriter:
        check_output(self.path)
        # named as atomic_write names its temporary files (a killed writer's are removed by the
        # next write of the target); the extension last, for the container's format
        self._tmp = str(temp_file(self.path, suffix=f".tmp{self.path.suffix}"))
        try:
            self._out = av.open(self._tmp, mode="w")
        except BaseException:
            Path(self._tmp).unlink(missing_ok=True)
            raise
        return self

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (all frames must have the first one's size)."""
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"{self.path}: expected (H, W, 3) uint8 frames, got {image.shape} {image.dtype}"
            )
        if self._stream is None:
            h, w = image.shape[:2]
            if h % 2 or w % 2:
                raise ValueError(f"{self.path}: frame size {h}x{w} must be even")
            stream = self._out.add_stream(
                self.codec, rate=Fraction(self.fps).limit_denominator(1001)
            )
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.gop_size = self.gop
            if self.codec == "libx264":
                stream.options = {"crf": str(self.crf), "preset": "veryfast", "tune": "zerolatency"}
            self._stream = stream
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        self.num_frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self._stream is None:
                    raise ValueError(f"{self.path}: no frames to write")
                for packet in self._stream.encode():
                    self._out.mux(packet)
            self._out.close()
            if exc_type is None:
                os.chmod(self._tmp, file_mode())
                os.replace(self._tmp, self.path)
        except OSError as err:  # the last packets or the close: a full disk, the size limit
            raise (write_failure(self.path, err, tmp=self._tmp) or err) from None
        finally:
            Path(self._tmp).unlink(missing_ok=True)
        failure = write_failure(self.path, exc, tmp=self._tmp) if exc is not None else None
        if failure is not None:  # a frame's write failed: one line naming the video, not its temp
            raise failure from None


def write_video(path: str | Path, frames: np.ndarray, *, fps: float = 25.0, **options) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames as an mp4, atomically (see :class:`VideoWriter`)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            f"write_video: expected (T, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}"
        )
    with VideoWriter(path, fps=fps, **options) as writer:
        for image in frames:
            writer.write(image)
    return Path(path)
