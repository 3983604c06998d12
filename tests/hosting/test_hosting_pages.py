"""The hosts' pages (tui/hosting/templates): every value shown as text, never as HTML."""

from __future__ import annotations

from urllib.parse import quote

from tui.hosting.pages import render

HOSTILE = '<script>alert("x")</script> & "quotes"'


def test_a_file_name_in_the_download_list_is_text() -> None:
    page = render(
        "download_list.html",
        entries=[{"href": quote(HOSTILE), "name": HOSTILE, "size": "12 bytes"}],
    )
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in page
    assert "(12 bytes)" in page
    assert "No files saved yet." in render("download_list.html", entries=[])


def test_the_sign_in_message_and_the_portal_page_values_are_text() -> None:
    login = render("web_login.html", nonce="n0nce", message=HOSTILE)
    assert "<script>alert" not in login and "&lt;script&gt;" in login
    assert '<style nonce="n0nce">' in login
    portal = render("web_portal.html", nonce="n0nce", tab='"><b>', upload_limit="1048576")
    assert 'data-tab="&#34;&gt;&lt;b&gt;"' in portal
    assert '<script nonce="n0nce">' in portal
