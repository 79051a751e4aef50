"""Keyboard-only helpers: journeys move with Tab and act with Enter or Space, as a person would."""


def tab_to(page, target, *, limit: int = 60, back: bool = False) -> None:
    """Press Tab (Shift+Tab when going `back`) until `target` (a selector or a locator) has
    focus; fail if it never does."""
    locator = page.locator(target) if isinstance(target, str) else target
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} cannot be reached with the Tab key on {page.url}")


def type_into(page, target, text: str) -> None:
    tab_to(page, target)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def tick(page, target) -> None:
    """Tab to a checkbox and tick it with Space."""
    tab_to(page, target)
    page.keyboard.press("Space")


def press(page, target, key: str = "Enter") -> None:
    tab_to(page, target)
    page.keyboard.press(key)
