"""Every link and form a demo account is shown is one its roles may use.

Each demo account walks every page it can reach from the home page. No link it is offered may
answer 403, and every form it is offered must post to a route that admits one of its roles.
"""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from governance import accounts, manual_checks
from tests.support import handler_for, page_forms, sign_in

DEMO_ACCOUNTS = ["admin", "business.owner", "central.team", "dpo", "equality.lead", "info.assurance", "programme.board"]
MAX_PAGES = 600


@pytest.fixture
async def demo(app, db):
    """The demo programme, with UC-001's readiness lapsed so that its warning banner shows."""
    from governance.demo import load_demo

    passwords = await load_demo(app.state.contributions)
    central = await accounts.actor_for_username("central.team")
    sign_off = next(item for item in await manual_checks.sign_offs_for(1) if item.key == "user_acceptance_testing")
    await manual_checks.revoke_sign_off(central, sign_off.id, "the tested build was replaced")
    return passwords


def links_on(html: str) -> list[str]:
    found = []
    for href in re.findall(r'href="([^"#]*)', html):
        href = href.replace("&amp;", "&")
        if urlsplit(href).netloc or not href.startswith("/") or href.startswith(("/static/", "/schema")):
            continue
        found.append(href)
    return found


async def crawl(app, client, username: str) -> tuple[int, list[str]]:
    """Visit every page reachable from the home page; return the count and each problem found."""
    actor = await accounts.actor_for_username(username)
    queue, seen, problems = deque(["/"]), set(), []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = await client.get(url, follow_redirects=False)
        if response.status_code >= 400:
            problems.append(f"link to {url} answers {response.status_code}")
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        queue.extend(link for link in links_on(response.text) if link not in seen)
        for form in page_forms(response.text):
            method = form["method"].upper()
            path = urlsplit(form["action"]).path
            handler = handler_for(app, method, path)
            if handler is None:
                problems.append(f"form on {url} posts to {path}, which has no route")
            elif not handler.opt.get("public") and not handler.opt["roles"] & actor.roles:
                problems.append(f"form on {url} posts to {path}, which refuses {username}")
    return len(seen), problems


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
async def test_offered_links_and_forms_usable(app, client, demo, username):
    await sign_in(client, username, demo[username])
    count, problems = await crawl(app, client, username)
    assert count > 50
    assert problems == []
