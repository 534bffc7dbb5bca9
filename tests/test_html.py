"""check.html and gap.html (issue 15, point 3): one self-contained file beside check.md / gap.md.

Fast tests: no external resource (no http(s):// or protocol-relative src/href, no @import, no
script, no <link>), well-formed (every element closed in order), every finding of check.json in the
page, every PNG of the folder embedded (the renderer's `render/*.png` included) and a video linked
relatively, user text escaped, the same bytes from the same run. Slow test: the pages in headless
Chromium, screenshot not blank and the verdict banner drawn (skipped where Chromium is absent)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from simmatch.cli.app import main
from simmatch.compare.report import write_reports
from simmatch.compare.run import run_check
from simmatch.gap.config import GapConfig
from simmatch.gap.report import write_report
from simmatch.outputs import verify_folder

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(HTMLParser):
    """Well-formedness (tags closed in order), table rows, img srcs and every src/href."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.urls: list[str] = []
        self.imgs: list[str] = []
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        for k in ("src", "href", "poster", "action", "data"):
            if a.get(k):
                self.urls.append(a[k])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            self.problems.append(f"<{tag} /> is not a void element")
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append(f"</{tag}> closes a void element")
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> _Page:
    assert text.startswith("<!DOCTYPE html>")
    page = _Page()
    page.feed(text)
    page.close()
    assert page.problems == []
    assert page.stack == []  # everything closed
    return page


def assert_self_contained(text: str, page: _Page) -> None:
    for url in page.urls:
        assert not re.match(r"^\s*(https?:|//|ftp:|file:)", url, re.I), url
        assert url.startswith("data:image/png;base64,") or not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I), url
    assert not re.search(r"@import|url\(\s*['\"]?\s*(https?:|//)", text, re.I)
    assert not re.search(r"https?://", text.split("<body>")[0])  # nothing remote in the head
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert "@font-face" not in text
    style = text.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "&#" not in style and "&quot;" not in style  # CSS is raw text: an escaped quote would break it


@pytest.fixture(scope="module")
def hopper_check(tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "r"
    assert main(["check", "hopper", "--random-q", "3", "--out", str(out)]) == 1
    return out


def test_check_html_is_self_contained_well_formed_and_holds_every_finding(hopper_check):
    text = (hopper_check / "check.html").read_text(encoding="utf-8")
    page = parse(text)
    assert_self_contained(text, page)
    findings = json.loads((hopper_check / "check.json").read_text())["findings"]
    assert len(findings) > 20  # the hopper's native imports: PyBullet, DART and MuJoCo all differ
    rows = [tuple(r[:5]) + (r[10],) for r in page.rows if len(r) == 12 and r[0] != "severity"]
    expected = [(f["severity"], f["engine"], f["load"], f"{f['category']}.{f['quantity']}", f["subject"], f["cause"])
                for f in findings]
    assert rows == expected  # every finding, once, in check.json's order
    # the verdict first, then the worst findings with their fix, then the collapsible details
    body = " ".join(" ".join(page.text).split())
    assert body.index("engine builds disagree with the model") < body.index("Worst findings") < body.index("Details")
    worst = [r for r in page.rows if len(r) == 7 and r[0] != "severity" and "/" in r[1]]  # not the summary table
    assert worst[0][0].upper() == "ERROR" and worst[-1][0].upper() in ("ERROR", "WARNING")  # errors first
    capsules = next(r for r in worst if r[5] == "dart_drops_capsules")
    assert all(link in capsules[3] for link in ("torso", "thigh", "leg", "foot"))
    assert "CapsuleShape" in capsules[6]  # the fix
    assert text.count("<details>") >= 4
    assert verify_folder(hopper_check) == []  # check.html is listed in the manifest


def test_check_html_escapes_names_from_the_model(tmp_path, data_dir):
    evil = '<b onmouseover="x()">bob&amp;</b>'
    urdf = tmp_path / "evil.urdf"
    urdf.write_text(f"""<?xml version="1.0"?>
<robot name="r&lt;script&gt;">
  <link name="world"/>
  <joint name="hinge" type="continuous"><parent link="world"/><child link="{evil.replace('&', '&amp;')
        .replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')}"/>
    <origin xyz="0 0 2"/><axis xyz="0 1 0"/></joint>
  <link name="{evil.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')}">
    <inertial><origin xyz="0 0 -1"/><mass value="1"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
    <collision><origin xyz="0 0 -1"/><geometry><capsule radius="0.05" length="0.2"/></geometry></collision>
  </link>
</robot>
""")
    out = tmp_path / "r"
    main(["check", str(urdf), "--engines", "dart", "--load", "native", "-n", "1", "--out", str(out)])
    text = (out / "check.html").read_text(encoding="utf-8")
    page = parse(text)
    assert_self_contained(text, page)
    assert "<b onmouseover" not in text and "<script>" not in text
    subjects = {r[4] for r in page.rows if len(r) == 12}
    assert evil in subjects  # the parsed page shows the name as it is written in the file


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    fig.patch.set_facecolor(np.array(rgb) / 255)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    plt.close(fig)
    return buf.getvalue()


def _uris(page: _Page) -> set[bytes]:
    return {base64.b64decode(s.split(",", 1)[1]) for s in page.imgs}


def test_check_html_embeds_the_renderers_pictures_and_links_its_video(tmp_path):
    result = run_check("pendulum", random_q=1, seed=0, engines=["mujoco"], load="matched")
    shapes = _png(200, 100, (200, 30, 30))

    def extra(folder: Path) -> None:
        (folder / "render").mkdir()
        (folder / "render" / "check_shapes.png").write_bytes(shapes)
        (folder / "render" / "check_shapes.mp4").write_bytes(b"not really a video")

    write_reports(result, tmp_path / "r", extra=extra)
    text = (tmp_path / "r" / "check.html").read_text()
    page = parse(text)
    assert_self_contained(text, page)
    assert _uris(page) == {shapes}
    assert 'class="verdict ok"' in text and "every engine build agrees with the model (1 checked)" in text
    assert 'src="render/check_shapes.mp4"' in text and 'href="render/check_shapes.mp4"' in text


def _gap_result(tmp_path: Path):
    from simmatch.gap.run import run_gap

    return run_gap(GapConfig(model="pendulum", src="mujoco", dst="bullet", scenarios=("drop", "sine"), horizon=40))


def test_gap_html_embeds_every_png_of_the_folder_in_its_scenario(tmp_path):
    result = _gap_result(tmp_path)
    still = _png(160, 90, (10, 120, 200))
    stray = _png(120, 60, (20, 160, 20))

    def extra(folder: Path) -> None:
        (folder / "render").mkdir()
        (folder / "render" / "drop_divergence.png").write_bytes(still)
        (folder / "render" / "drop.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
        (folder / "render" / "overview.png").write_bytes(stray)

    out = write_report(result, tmp_path / "g", plots=True, extra=extra)
    text = (out / "gap.html").read_text()
    page = parse(text)
    assert_self_contained(text, page)
    pngs = sorted(p for p in out.rglob("*.png"))
    assert len(pngs) == 6  # drop/sine x error/worst, the still and the stray picture
    assert _uris(page) == {p.read_bytes() for p in pngs}  # every PNG the run wrote, embedded
    assert len(page.imgs) == len(pngs)  # each once
    # the divergence still and the video sit in the drop section, before the sine section
    drop, sine = text.index("<h2>drop</h2>"), text.index("<h2>sine</h2>")
    assert drop < text.index(base64.b64encode(still).decode()) < sine
    assert drop < text.index('src="render/drop.mp4"') < sine
    assert text.index(base64.b64encode(stray).decode()) > text.index("Other pictures")
    # the verdict first: the scenarios, then their sections
    body = " ".join(" ".join(page.text).split())
    assert body.index("mujoco and bullet") < body.index("Scenarios") < body.index("Details")
    rows = [r for r in page.rows if len(r) == 6 and r[0] in ("drop", "sine")]
    assert [r[0] for r in rows] == ["drop", "sine"]


def test_gap_html_without_plots_and_the_same_bytes_twice(tmp_path):
    args = ["gap", "pendulum", "--src", "dart", "--dst", "bullet", "-s", "drop", "--horizon", "30", "--no-plots", "-q"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "gap.html").read_bytes()
    assert a == (tmp_path / "b" / "gap.html").read_bytes()
    page = parse(a.decode())
    assert page.imgs == [] and "drop" in " ".join(page.text)
    assert verify_folder(tmp_path / "a") == []
    assert str(tmp_path) not in a.decode()  # no absolute path of the run in the page


def test_no_report_writes_no_html(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["check", "pendulum", "--engines", "mujoco", "--load", "matched", "-n", "1", "--no-report"])
    assert list(tmp_path.iterdir()) == []


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no Chromium here (Debian: apt-get install chromium)")
@pytest.mark.parametrize("which", ["check", "gap"])
def test_pages_render_in_headless_chromium(which, tmp_path):
    out = tmp_path / which
    if which == "check":
        main(["check", "hopper", "--random-q", "3", "--out", str(out)])
    else:
        assert main(["gap", "hopper", "--src", "bullet", "--dst", "dart", "--horizon", "300", "--out", str(out), "-q"]) == 0
    shot = tmp_path / f"{which}.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", "--window-size=1280,1000", (out / f"{which}.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000
    import matplotlib.image

    img = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    assert img.shape == (1000, 1280, 3)
    assert img.std() > 20  # not blank
    # the verdict banner (red: the engines disagree) is drawn near the top: its border colour #b3261e
    top = img[:300]
    assert (np.abs(top - np.array([0xb3, 0x26, 0x1e])).sum(axis=-1) < 30).sum() > 500
    if which == "gap":  # a plot is drawn (matplotlib's default blue line)
        assert (np.abs(img - np.array([0x1f, 0x77, 0xb4])).sum(axis=-1) < 30).sum() > 50
