"""Front-end rules that a strict Content-Security-Policy and a closed network rely on."""
import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[2] / "inventory" / "static"
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_inline_script_handlers_or_styles(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script> code"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"\sstyle\s*=", text), "inline style attribute"
    assert not re.search(r"<style", text), "inline <style> block"
    assert not re.search(r"(src|href)=\"(https?:)?//", text), "asset from another host"


def test_static_assets_load_nothing_from_other_hosts():
    for path in STATIC.rglob("*"):
        if path.suffix in {".css", ".js"} and "vendor" not in path.parts:
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", path.read_text()), path


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_signed_in_pages_are_not_cached(client, login):
    login()
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_pages_are_built_for_phones_and_screen_readers(client, login):
    login()
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<html lang="en-GB">' in page
    assert 'class="skip-link" href="#main"' in page
    assert '<nav id="site-nav" class="site-nav" aria-label="Main">' in page


def test_every_form_field_has_a_label(client):
    page = client.get("/login").get_data(as_text=True)
    for field_id in re.findall(r'<input[^>]*\bid="([^"]+)"', page):
        if field_id != "csrf_token":
            assert f'for="{field_id}"' in page, field_id


@pytest.mark.parametrize("template", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_page_titles_are_one_line_of_text(template):
    for title in re.findall(r"{% block title %}(.*?){% endblock %}", template.read_text(), flags=re.S):
        assert "\n" not in title and "<" not in title, f"title block holds markup: {title[:60]!r}"
