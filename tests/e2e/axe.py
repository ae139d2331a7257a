"""axe-core in the page, and the checks every browser test of a screen repeats.

``audit(page, name)`` injects pwa/node_modules/axe-core/axe.min.js (an npm devDependency of the
PWA) into the page, runs it on the whole document and fails on any serious or critical violation,
naming the rule, the element and axe's advice. ``shot(page, name)`` writes a screenshot to
artefacts/screenshots/ (made by the run; ignored by git) for a reviewer to look at.
``layout_problems(page)`` lists what a person would notice at once: the page scrolling sideways,
text cut off inside its own box, and visible controls overlapping one another.
"""

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "artefacts" / "screenshots"
BLOCKING = ("serious", "critical")


async def audit(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe on the page as it is; raise AssertionError on serious or critical violations."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated over the DevTools protocol: the page's CSP (script-src 'self') forbids an inline <script>.
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, { resultTypes: ['violations'] });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
            }));
        }"""
    )
    blocking = [v for v in result if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {name}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}): " + " | ".join(f"{n['target']} - {n['summary']}" for n in v["nodes"])
        for v in blocking
    )
    return list(result)


async def shot(page: Any, name: str) -> Path:
    """A full-page screenshot in artefacts/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path


LAYOUT_JS = (Path(__file__).parent / "layout.js").read_text(encoding="utf-8")


async def layout_problems(page: Any, root: str | None = None) -> list[str]:
    """What a person sees as broken: sideways scrolling, cut-off text, clipped select boxes."""
    return list(await page.evaluate(LAYOUT_JS, root))


async def overlaps(page: Any, a: str, b: str) -> bool:
    """Whether the boxes of two selectors' first visible elements overlap on screen."""
    return bool(
        await page.evaluate(
            """([a, b]) => {
                const x = document.querySelector(a), y = document.querySelector(b);
                if (!x || !y) return false;
                const r = x.getBoundingClientRect(), s = y.getBoundingClientRect();
                return !(r.right <= s.left || s.right <= r.left || r.bottom <= s.top || s.bottom <= r.top);
            }""",
            [a, b],
        )
    )
