"""How the site writes a count in a sentence (command output, badges, mail)."""


def how_many(number: int, noun: str, plural: str = "") -> str:
    """1 -> "1 day"; 1204 -> "1,204 days" (or `plural` where the noun is irregular)."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
