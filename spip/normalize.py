import re
import unicodedata


def search_key(*parts: str) -> str:
    """Fold accents, case, hyphens and apostrophes: "Lefèvre-D'Arc" -> "LEFEVRE D ARC"."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^A-Za-z0-9]+", " ", text)
    return " ".join(text.upper().split())
