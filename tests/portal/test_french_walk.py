"""Every page every demo role reaches by following links, read as its user reads it: no
error page, no English status word, no decimal point in a figure, no raw None/True/False,
no plural after 0 or 1."""

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

ROLES = [
    "demo.cpip",
    "demo.dpip",
    "demo.dspip",
    "demo.bex",
    "demo.disp",
    "demo.dap",
    "demo.partenaire",
    "demo.admin",
]
# Pages per role at most, and per path shape (digits folded: /dossiers/N/) at most.
MAX_PAGES = 70
PER_SHAPE = 2
# Not pages to read: leaving, files, the API and the admin's own (Django's) screens.
SKIP = re.compile(
    r"^/(deconnexion|logout|api/|admin/|static/|media/)|/pdf/|/justificatifs/|/export"
)

ENGLISH = re.compile(
    r"\b(booked|honoured|missed|excused|cancelled|pending|awaiting|draft|queued|failed|"
    r"running|succeeded|done|sent|None|True|False|Page not found|Server Error|Forbidden|"
    r"Bad Request|Not Found)\b"
)
DECIMAL_POINT = re.compile(r"\b\d+\.\d+\s?(%|ETP|h\b|j\b)")
# French agreement: 0 and 1 take the singular.
PLURAL_AFTER_ONE = re.compile(
    r"(?<![\d,])[01] (dossiers|alertes|convocations|mesures|personnes|orientations|jours|"
    r"heures|entretiens|arrivées|rapports|agents|services|antennes)\b"
)


class _Text(HTMLParser):
    """The text a reader sees (not scripts, styles or attribute values) and the links."""

    def __init__(self):
        super().__init__()
        self.text, self.links, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _walk(client: Client) -> tuple[dict, list[str]]:
    seen, shapes, problems = {}, Counter(), []
    queue = ["/"]
    while queue and len(seen) < MAX_PAGES:
        url = urldefrag(queue.pop(0))[0]
        path = urlsplit(url).path
        shape = re.sub(r"\d+", "N", path)
        if url in seen or SKIP.search(path) or shapes[shape] >= PER_SHAPE:
            continue
        shapes[shape] += 1
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        if title is None or "<" in title.group(1):
            # Markup inside the title block is shown nowhere (a form lost there once).
            problems.append(f"{url}: markup in the page title")
        parser = _Text()
        parser.feed(html)
        text = " ".join(" ".join(parser.text).split())
        for pattern in (ENGLISH, DECIMAL_POINT, PLURAL_AFTER_ONE):
            for match in pattern.finditer(text):
                context = text[max(match.start() - 40, 0) : match.end() + 40]
                problems.append(f"{url}: « {match.group(0)} » in « {context} »")
        for href in parser.links:
            parts = urlsplit(href)
            if not parts.netloc and parts.path.startswith("/") and href not in seen:
                queue.append(href)
    return seen, problems


@pytest.mark.django_db
def test_every_page_of_every_demo_role_speaks_french():
    """The demo seeded in the test's transaction (rolled back after), then each role walks."""
    call_command("seed_demo", "--password", "mot-de-passe-demo", "--scale", "0.1")
    problems, reached = [], {}
    for username in ROLES:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        seen, found = _walk(client)
        reached[username] = len(seen)
        problems += [f"{username} {p}" for p in found]
    assert all(n >= 3 for n in reached.values()), reached
    assert not problems, "\n".join(problems[:40])
