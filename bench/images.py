"""Benchmark: ``app.media.process_image`` against bare Pillow on a 4000x3000 camera-like JPEG.

Usage::

    python bench/images.py [--runs 5] [--sweep]

The input is generated here: gradients, low- and high-frequency noise and hard-edged shapes,
saved as a quality-90 JPEG with camera EXIF (orientation 1, GPS), about the size of a phone photo.

Two contenders produce the same output, WebP at 320, 640 and 1280 px wide, quality 80, libwebp
method ``app.media.images.WEBP_METHOD``, Lanczos resampling:

* ours: ``process_image(data, LocalStorage(tmp))`` with the configured limits: validation,
  reduced-scale JPEG decoding (``draft``), orientation, sRGB handling, resizing each variant from
  the next larger one, content hashing and atomic, fsynced writes of three files;
* baseline ("bare Pillow"): ``Image.open`` + ``load`` at full size, then for each width
  ``resize`` from the full-size picture and ``save`` as WebP into memory. No validation, no draft,
  no storage.

Every measurement runs in a fresh subprocess that imports the same modules and warms up on a
small picture through its own code path, then times one call (``time.perf_counter``) and reads
its peak resident set size (``VmHWM`` in ``/proc/self/status``) before and after the call; Pillow
allocates pixels in C, so ``tracemalloc`` would not see them. Contenders alternate run by run and
medians are reported. ``--sweep`` also times every libwebp method (0-6) in-process.

The last line is ``ratio: N``, our median time divided by the baseline's (goal: at most 1.3).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (320, 640, 1280)
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000


def _import_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def make_photo(size: tuple[int, int] = (4000, 3000), seed: int = 1) -> bytes:
    """A camera-like JPEG: smooth gradients, mottled texture, sensor noise and sharp edges."""
    import random

    from PIL import ExifTags, Image, ImageChops, ImageDraw

    w, h = size
    rng = random.Random(seed)
    ramp = Image.linear_gradient("L")
    gx = ramp.rotate(90).resize((w, h))
    gy = ramp.resize((w, h))
    mottle = Image.effect_noise((w // 50, h // 50), 60).resize((w, h), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((w, h), 10)
    channels = [
        ImageChops.add(Image.blend(gx, mottle, 0.4), grain, scale=1.0, offset=-128),
        ImageChops.add(Image.blend(gy, mottle, 0.5), grain, scale=1.0, offset=-128),
        ImageChops.add(Image.blend(gx.rotate(180), gy, 0.5), grain, scale=1.0, offset=-128),
    ]
    img = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = rng.uniform(40, 500), rng.uniform(40, 500)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)
        else:
            draw.rectangle((x - rx, y - ry, x + rx, y + ry), outline=colour, width=12)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.Model] = "Bench Camera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 41.0, 21.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def run_ours(data: bytes, workdir: Path) -> list[tuple[int, int, int]]:
    from app.media import LocalStorage, process_image

    storage = LocalStorage(workdir)
    stored = process_image(data, storage, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, widths=WIDTHS)
    return [(v.width, v.height, len(storage.get(v.key))) for v in stored.variants]


def run_baseline(data: bytes, workdir: Path) -> list[tuple[int, int, int]]:
    from PIL import Image

    from app.media.images import WEBP_METHOD, WEBP_QUALITY

    out = []
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        w, h = img.size
        for width in WIDTHS:
            size = (min(width, w), round(h * min(width, w) / w))
            buf = io.BytesIO()
            img.resize(size, Image.Resampling.LANCZOS).save(
                buf, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD
            )
            out.append((*size, len(buf.getvalue())))
    return out


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("VmHWM not available")


def worker(kind: str, input_path: Path) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    _import_path()
    from PIL import Image

    import app.media  # noqa: F401 - same imports for both contenders

    fn = run_ours if kind == "ours" else run_baseline
    data = input_path.read_bytes()
    small = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(small, "JPEG")
    with tempfile.TemporaryDirectory() as tmp:
        fn(small.getvalue(), Path(tmp) / "warm")
        before = _peak_rss_kb()
        started = time.perf_counter()
        result = fn(data, Path(tmp) / "media")
        seconds = time.perf_counter() - started
        after = _peak_rss_kb()
    print(json.dumps({"seconds": seconds, "hwm_before": before, "hwm_after": after, "out": result}))


def _measure(kind: str, input_path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--input", str(input_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sweep(data: bytes) -> None:
    """Time every libwebp method for our pipeline, in this process (best of three)."""
    _import_path()
    import app.media.images as images

    print("libwebp method sweep (ours, in-process, best of 3):")
    original = images.WEBP_METHOD
    try:
        for method in range(7):
            images.WEBP_METHOD = method
            best, total = float("inf"), 0
            for _ in range(3):
                with tempfile.TemporaryDirectory() as tmp:
                    started = time.perf_counter()
                    out = run_ours(data, Path(tmp))
                    best = min(best, time.perf_counter() - started)
                    total = sum(size for _, _, size in out)
            print(
                f"  method={method}: {best * 1000:7.1f} ms  {total / 1024:7.1f} KiB for 3 variants"
            )
    finally:
        images.WEBP_METHOD = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="also time libwebp methods 0-6")
    parser.add_argument("--worker", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.input)
        return

    _import_path()
    from app.media.images import WEBP_METHOD, WEBP_QUALITY

    with tempfile.TemporaryDirectory() as tmp:
        input_path = Path(tmp) / "photo.jpg"
        started = time.perf_counter()
        data = make_photo()
        input_path.write_bytes(data)
        print(
            f"input: 4000x3000 JPEG, {len(data) / 1024 / 1024:.2f} MiB "
            f"(generated in {time.perf_counter() - started:.1f} s)"
        )
        print(f"output: WebP {WIDTHS} px, quality {WEBP_QUALITY}, method {WEBP_METHOD}")
        if args.sweep:
            sweep(data)

        results: dict[str, list[dict]] = {"ours": [], "baseline": []}
        for _ in range(args.runs):
            for kind in ("ours", "baseline"):
                results[kind].append(_measure(kind, input_path))

    summary = {}
    for kind, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        peak = statistics.median(r["hwm_after"] for r in runs) / 1024
        growth = statistics.median(r["hwm_after"] - r["hwm_before"] for r in runs) / 1024
        summary[kind] = (seconds, peak, growth)
        sizes = ", ".join(f"{w}x{h} {size / 1024:.0f} KiB" for w, h, size in runs[0]["out"])
        times = " ".join(f"{r['seconds'] * 1000:.0f}" for r in runs)
        print(
            f"{kind:>8}: median {seconds * 1000:7.1f} ms (runs: {times})  "
            f"peak RSS {peak:6.1f} MiB (+{growth:.1f} MiB during the call)  [{sizes}]"
        )
    (ours_s, ours_peak, ours_growth), (base_s, base_peak, base_growth) = (
        summary["ours"],
        summary["baseline"],
    )
    print(f"memory ratio (peak RSS): {ours_peak / base_peak:.2f}")
    if base_growth > 0:
        print(f"memory ratio (growth during the call): {ours_growth / base_growth:.2f}")
    print(f"time ratio: {ours_s / base_s:.2f}")
    print(f"ratio: {ours_s / base_s:.2f}")


if __name__ == "__main__":
    main()
