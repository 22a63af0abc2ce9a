"""What every browser test checks of a screen: the page does not scroll sideways, and when it does,
the failure names the page and what sticks out furthest on the right."""

# The elements whose right edge is past `width`, furthest first; one inside a box that clips or scrolls
# sideways (a table in .overflow-auto) cannot widen the page, so it is named only when nothing else is.
STICKING_OUT = """(width) => {
  const boxed = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].map((c) => "." + c).join("")
    + ' "' + (e.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 30) + '"'
    + " ends at " + Math.round(e.getBoundingClientRect().right) + "px";
  const out = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right);
  const free = out.filter((e) => !boxed(e));
  return (free.length ? free : out).slice(0, 3).map(name);
}"""


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def window_width(page, width: int | None = None) -> int:
    return width if width is not None else page.evaluate("window.innerWidth")


def too_wide(page, width: int | None = None) -> list[str]:
    """Nothing when the page fits `width` (the window's width by default); else what sticks out,
    furthest first (at least the page's own width)."""
    width = window_width(page, width)
    wide = page_width(page)
    if wide <= width:
        return []
    return page.evaluate(STICKING_OUT, width) or [f"the page itself, {wide}px wide"]


def fits(page, width: int | None = None) -> bool:
    """The page does not scroll sideways in a window `width` pixels wide (the window's own by default)."""
    return page_width(page) <= window_width(page, width)


def assert_fits(page, width: int | None = None) -> None:
    """The page does not scroll sideways; the failure says which page, how wide, and what sticks out."""
    width = window_width(page, width)
    if found := too_wide(page, width):
        raise AssertionError(
            f"{page.url} scrolls sideways: {page_width(page)}px wide for {width}px; widest: {', '.join(found)}"
        )
