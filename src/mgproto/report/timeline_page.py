"""A self-contained HTML page for a predicted timeline: the video and a clickable timeline.

The (annotated) video is embedded as a base64 data URI when it is smaller than
``embed_limit_mb`` (the page then works on its own, e-mailed or archived); a larger video is
linked by its path relative to the page. One lane per class that occurs; clicking a segment,
or a row of the segment table, seeks the video there. Below them, the model's confidence over
time (a PNG, embedded) shows what it sees whether or not a segment passed the threshold; an
empty timeline says why. No scripts or styles are fetched.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mgproto.fileio import atomic_write_text
from mgproto.infer.timeline import Segment
from mgproto.report.timeline_video import class_colors

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
video{max-width:100%;background:#000;display:block}
.lanes{position:relative;margin:16px 0;border:1px solid #ccc}
.lane{position:relative;height:22px;border-bottom:1px solid #eee}
.lane span.name{position:absolute;left:4px;top:3px;font-size:12px;color:#555;z-index:1}
.seg{position:absolute;top:2px;height:18px;border-radius:3px;cursor:pointer;opacity:.85}
.seg:hover{opacity:1;outline:2px solid #333}
#head{position:absolute;top:0;bottom:0;width:2px;background:#d00;pointer-events:none}
table{border-collapse:collapse;font-size:14px}td,th{padding:3px 10px;border-bottom:1px solid #eee}
.note{background:#fff4d6;border-left:4px solid #e0a000;padding:8px 12px}
img.plot{max-width:100%;display:block}
tr.row{cursor:pointer}tr.row:hover{background:#f4f4f4}.sw{display:inline-block;width:12px;
height:12px;border-radius:2px;margin-right:6px;vertical-align:middle}
"""

_SCRIPT = """
const v=document.getElementById('video'),head=document.getElementById('head');
function seek(t){v.currentTime=t;v.play();}
document.querySelectorAll('[data-t]').forEach(e=>e.addEventListener('click',
  ()=>seek(parseFloat(e.dataset.t))));
v.addEventListener('timeupdate',()=>{head.style.left=(100*v.currentTime/DURATION)+'%';});
"""


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _video_src(video: Path, page: Path, embed_limit_mb: float) -> tuple[str, str]:
    size_mb = video.stat().st_size / 2**20
    if size_mb <= embed_limit_mb:
        data = base64.b64encode(video.read_bytes()).decode("ascii")
        return f"data:video/mp4;base64,{data}", "embedded"
    rel = os.path.relpath(video.resolve(), page.parent.resolve())
    return html.escape(rel), f"linked ({size_mb:.0f} MB > {embed_limit_mb:g} MB embed limit)"


def write_timeline_page(
    path: str | Path,
    *,
    video: str | Path,
    segments: Sequence[Segment],
    info: dict[str, Any],
    class_names: Sequence[str],
    confidence_plot: str | Path | None = None,
    embed_limit_mb: float = 64.0,
) -> Path:
    """Write the page (atomically).

    Args:
        path: output .html.
        video: the mp4 to show (normally the annotated video).
        segments: the timeline.
        info: the run summary (``VideoPrediction.info()`` plus settings), shown as a table;
            its ``no_segments_reason`` is shown above an empty timeline.
        class_names: K names (colours follow class indices, as in the annotated video).
        confidence_plot: a PNG of the confidence over time (``report.plots.plot_confidence``),
            embedded under the lanes.
        embed_limit_mb: embed the video up to this size, link it beyond.
    """
    path = Path(path)
    duration = max(float(info.get("duration_s") or 0), 1e-6)
    colors = [_hex(c) for c in class_colors(len(class_names))]
    src, how = _video_src(Path(video), path, embed_limit_mb)
    esc = html.escape
    used = sorted({s.label_id for s in segments})
    lanes = []
    for k in used:
        blocks = "".join(
            f'<div class="seg" data-t="{s.start}" title="{esc(s.label)} {s.start:.2f}-'
            f'{s.end:.2f} s, confidence {s.confidence:.2f}" style="left:'
            f"{100 * s.start / duration:.3f}%;width:{max(0.2, 100 * s.duration / duration):.3f}%;"
            f'background:{colors[k]}"></div>'
            for s in segments
            if s.label_id == k
        )
        lanes.append(
            f'<div class="lane"><span class="name">{esc(class_names[k])}</span>{blocks}</div>'
        )
    rows = "".join(
        f'<tr class="row" data-t="{s.start}"><td>{s.start:.2f}</td><td>{s.end:.2f}</td>'
        f'<td><span class="sw" style="background:{colors[s.label_id]}"></span>'
        f"{esc(s.label)}</td><td>{s.confidence:.2f}</td></tr>"
        for s in segments
    )
    summary = "".join(
        f"<tr><th align=left>{esc(str(k))}</th><td>{esc(json.dumps(v))}</td></tr>"
        for k, v in info.items()
        if k not in ("classes", "no_segments_reason")
    )
    reason = info.get("no_segments_reason")
    note = f'<p class="note">No segment: {esc(reason)}</p>' if reason and not segments else ""
    plot = ""
    if confidence_plot is not None:
        data = base64.b64encode(Path(confidence_plot).read_bytes()).decode("ascii")
        plot = (
            "<h3>Confidence over time</h3>"
            f'<img class="plot" alt="top-class confidence over time" '
            f'src="data:image/png;base64,{data}">'
        )
    title = esc(Path(str(info.get("video", video))).name)
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}: micro-gestures"
        f"</title><style>{_STYLE}</style></head><body>"
        f"<h2>Micro-gesture timeline: {title}</h2>"
        f'<video id="video" controls src="{src}"></video>'
        f"<p style='font-size:12px;color:#777'>video {esc(how)}; click a segment to play it</p>"
        f"{note}"
        f'<div class="lanes">{"".join(lanes) or "<p>&nbsp;no segments</p>"}'
        f'<div id="head"></div></div>{plot}'
        f"<h3>{len(segments)} segments</h3><table><tr><th>start (s)</th><th>end (s)</th>"
        f"<th>label</th><th>confidence</th></tr>{rows}</table>"
        f"<h3>Run</h3><table>{summary}</table>"
        f"<script>const DURATION={duration};{_SCRIPT}</script></body></html>\n"
    )
    return atomic_write_text(path, body)
