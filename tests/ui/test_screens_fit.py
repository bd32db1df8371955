"""Every screen fits the width of a point-of-sale display: nothing scrolls sideways at
1024×768 or 1366×768 (touch all-in-ones); the window never grows past the screen."""

from __future__ import annotations

import pytest

from app.ui.main_window import PAGES


@pytest.mark.parametrize("size", [(1024, 768), (1366, 768)], ids=["1024x768", "1366x768"])
def test_no_screen_scrolls_sideways(qtbot, window, size) -> None:
    window.resize(*size)
    for name in PAGES:
        window.nav.setCurrentRow(PAGES.index(name))
        qtbot.wait(200)  # texts set once shown (a file name, a status) have been laid out
        page = window.pages[name]
        assert window.width() == size[0], name
        if page is window.till:
            continue  # laid out to fit as it is (tests/ui/test_theme.py holds it)
        assert page.horizontalScrollBar().maximum() == 0, f"{name} défile de côté"
