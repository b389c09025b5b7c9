"""The board's charts as Chromium draws them: every number on an axis inside the picture."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import DESKTOP, PHONE
from tests.data import SERANG
from web.app import templates_for
from web.board import AreaBoard, AreaTree, board_row
from web.charts import arrivals_chart

H1 = datetime(2024, 2, 13, 17, tzinfo=UTC)
CSS = (Path(__file__).resolve().parents[2] / "web" / "static" / "lacak.css").read_text()


def charts_page(planned: int) -> str:
    """The charts of an area with `planned` batches, none yet delivered, styled as served."""
    board = AreaBoard(total=board_row(AreaTree(SERANG), SERANG.code, None, 0), rows=[], deadline=H1)
    charts = templates_for(SERANG).get_template("_charts.html")
    drawn = charts.render(board=board, progress=[], arrivals=arrivals_chart([], planned, H1))
    return f"<!doctype html><html lang=id><style>{CSS}</style><main>{drawn}</main></html>"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("planned", [12, 250_012, 1_234_567, 98_765_432])
def test_every_count_on_the_arrivals_axis_is_drawn_whole(browser: Browser, viewport, planned):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_content(charts_page(planned))
    ticks = page.eval_on_selector_all(
        ".arrivals text.tick[text-anchor=end]",
        "ticks => ticks.map(t => [t.textContent, t.getBBox().x])",
    )
    context.close()
    assert [label for label, _ in ticks][-1] == f"{planned:,}".replace(",", ".")
    cut = [(label, round(x, 1)) for label, x in ticks if x < 0]
    assert not cut, f"cut off at the left of the chart: {cut}"
