"""What the benefits package contributes to the app: routes, gate checks, panels and demo data."""

from governance.packages import Contribution


def contribute() -> Contribution:
    return Contribution(name="benefits")
