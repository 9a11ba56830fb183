"""The statistics report: a folder with ``index.html`` (self-contained), ``stats.json`` and PNG plots.

::

    REPORT_DIR/
      index.html                 tables + the plots embedded as base64 PNGs: opens offline, alone
      stats.json                 the numbers (same as ``fashiondata stats --json``'s "stats")
      categories.png             instances per category (the :data:`MAX_BARS` largest)
      instances_per_image.png    images by instance count
      mask_area_ratio.png        instances by mask area / image area
      image_sizes.png            images by megapixels
      vertices_per_polygon.png   polygons by vertex count

Plots are drawn with matplotlib's object API on the Agg canvas (no pyplot state, no display), which
is the optional ``[report]`` extra: without it, :class:`~fashiondata.errors.MissingDependencyError`.
The folder is built beside the destination and swapped in (:func:`fashiondata.io.staged_dir`).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from fashiondata.errors import MissingDependencyError
from fashiondata.io import staged_dir
from fashiondata.stats import AREA_RATIO_BINS

MAX_BARS = 50
_PNG_METADATA = {"Software": None}  # no version stamp: the same stats give the same bytes

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .25em .8em; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f6f6f6; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; } .plots figure { margin: 0; }
.plots img { max-width: 520px; border: 1px solid #eee; }
"""


def write_report(
    stats: Mapping[str, Any], destination: str | os.PathLike[str], *, overwrite: bool, title: str = "dataset"
) -> None:
    """Write the report folder for ``stats`` (the dict of :meth:`fashiondata.stats.Tally.to_dict`)."""
    plots = render_plots(stats)
    page = render_html(stats, plots, title=title)
    with staged_dir(destination, overwrite=overwrite) as stage:
        (stage / "stats.json").write_bytes(orjson.dumps(stats, option=orjson.OPT_INDENT_2))
        for name, png in plots.items():
            (stage / f"{name}.png").write_bytes(png)
        (stage / "index.html").write_text(page, encoding="utf-8")


def render_plots(stats: Mapping[str, Any]) -> dict[str, bytes]:
    """The PNG bytes of each plot, by name."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as error:
        raise MissingDependencyError("matplotlib", "report") from error

    def draw(
        labels: Sequence[str],
        values: Sequence[float],
        title: str,
        xlabel: str,
        ylabel: str,
        *,
        horizontal: bool = False,
    ) -> bytes:
        height = max(3.2, 0.22 * len(labels) + 1.2) if horizontal else 3.2
        figure = Figure(figsize=(6.4, height), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        if horizontal:
            axes.barh(positions, values, color="#4c72b0")
            axes.set_yticks(positions, labels, fontsize=8)
            axes.invert_yaxis()
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts
            axes.set_xlabel(ylabel)
        else:
            axes.bar(positions, values, color="#4c72b0")
            step = max(1, len(labels) // 12)
            axes.set_xticks(
                positions[::step], labels[::step], fontsize=8, rotation=45 if step > 1 or len(labels) > 8 else 0
            )
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
            axes.set_xlabel(xlabel)
            axes.set_ylabel(ylabel)
        axes.set_title(title)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata=_PNG_METADATA)
        return buffer.getvalue()

    rows = sorted(stats["per_category"], key=lambda r: (-r["instances"], r["name"]))[:MAX_BARS]
    shown = "" if len(stats["per_category"]) <= MAX_BARS else f" (largest {MAX_BARS})"
    instances = stats["instances_per_image"]["histogram"]
    vertices = stats["polygons"]["vertices_histogram"]
    megapixels = stats["image_size"]["megapixels_histogram"]
    ratio_bins = stats["mask_area_ratio"]["histogram"]
    width = 1 / AREA_RATIO_BINS
    return {
        "categories": draw(
            [r["name"] for r in rows],
            [r["instances"] for r in rows],
            f"instances per category{shown}",
            "",
            "instances",
            horizontal=True,
        ),
        "instances_per_image": draw(
            list(instances), list(instances.values()), "instances per image", "instances in the image", "images"
        ),
        "mask_area_ratio": draw(
            [f"{i * width:.2f}" for i in range(AREA_RATIO_BINS)],
            ratio_bins,
            "mask area / image area",
            "ratio (bin start)",
            "instances",
        ),
        "image_sizes": draw(
            [f"{k} MP" for k in megapixels],
            list(megapixels.values()),
            "image sizes",
            "megapixels (bin start)",
            "images",
        ),
        "vertices_per_polygon": draw(
            list(vertices), list(vertices.values()), "vertices per polygon", "vertices", "polygons"
        ),
    }


def render_html(stats: Mapping[str, Any], plots: Mapping[str, bytes], *, title: str) -> str:
    """The self-contained page: summary, plots (inline base64), per-category and attribute tables."""
    esc = html.escape
    summary = [
        ("images", stats["images"]),
        ("annotations", stats["annotations"]),
        ("categories", stats["categories"]),
        ("empty images", stats["empty_images"]),
        ("crowd annotations", stats["crowd_annotations"]),
        ("instances per image (mean)", stats["instances_per_image"]["mean"]),
        ("polygons", stats["polygons"]["count"]),
        ("vertices per polygon (mean)", stats["polygons"]["vertices_mean"]),
        ("megapixels per image (mean)", stats["image_size"]["megapixels_mean"]),
        ("mask area / image area (mean)", _text(stats["mask_area_ratio"]["mean"])),
        *(
            (f"COCO {k} (area {rule})", stats["area_classes"][k])
            for k, rule in (("small", "< 32²"), ("medium", "32²–96²"), ("large", "≥ 96²"))
        ),
    ]
    if "persons" in stats:
        p = stats["persons"]
        summary.append((f"persons 0 / 1 / many (from {p['source']})", f"{p['0']} / {p['1']} / {p['many']}"))
    if "detect" in stats:
        d = stats["detect"]
        summary.append(
            (
                "color / monochrome / grayscale / bw",
                " / ".join(str(d["color"][k]) for k in ("color", "monochrome", "grayscale", "bw")),
            )
        )
        summary.append(("grayscale share", _text(d["grayscale_share"])))
        summary.append(("selfies (share)", f"{d['selfies']} ({_text(d['selfie_share'])})"))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)} — fashiondata stats</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "<h2>Summary</h2>",
        _table(("", "value"), [(k, v) for k, v in summary]),
        '<h2>Plots</h2><div class="plots">',
    ]
    for name, png in plots.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}"></figure>')
    parts.append("</div><h2>Per category</h2>")
    parts.append(
        _table(
            ("id", "category", "instances", "images", "share", "mask / image"),
            [
                (
                    r["id"],
                    r["name"],
                    r["instances"],
                    r["images"],
                    f"{r['share'] * 100:.2f}%",
                    _text(r["mask_area_ratio"]),
                )
                for r in stats["per_category"]
            ],
        )
    )
    attributes = stats["attributes"]
    for level in ("image", "annotation"):
        for name, counts in attributes[level].items():
            parts.append(f"<h2>{level} attribute: {esc(name)}</h2>")
            parts.append(_table(("value", "count"), list(counts.items())))
    if attributes["not_counted"]:
        parts.append("<h2>Attributes not counted</h2>")
        parts.append(_table(("attribute", "why"), list(attributes["not_counted"].items())))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _text(value: Any) -> str:
    return "–" if value is None else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v}</td>' if isinstance(v, (int, float)) else f"<td>{html.escape(str(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
