# SPDX-License-Identifier: MIT
"""Security: every bad request gets the right 4xx, and the server keeps
serving afterwards."""
import gc

import pytest

from pyhost import console


@pytest.fixture(autouse=True)
def still_serving(client):
    """After each test, the console still answers a good request."""
    yield
    assert client.get("/process").status == 200
    assert client.get("/api/gc").status == 200


def test_no_token_is_401(client):
    r = client.get("/", token=False)
    assert r.status == 401
    assert "access token required" in r.text
    assert client.get("/process", token=False).status == 401
    assert client.get("/api/gc", token=False).status == 401


def test_wrong_token_is_403(client):
    bad = "0" * len(client.token)
    r = client.get("/", token=False, headers={"Cookie": f"pyhost_console={bad}"})
    assert r.status == 403 and "wrong access token" in r.text
    assert client.get(f"/?token={bad}", token=False).status == 403
    assert client.get("/", token=False, headers={
        "Authorization": "Bearer " + client.token[:-1]}).status == 403
    # A prefix, an extension and an empty token are all wrong.
    assert client.get(f"/?token={client.token}x", token=False).status == 403
    assert client.get("/?token=", token=False).status == 403


def test_token_in_url_becomes_a_cookie(client):
    r = client.get(f"/modules?token={client.token}", token=False)
    assert r.status == 303
    assert r.headers["location"] == "/modules"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"pyhost_console={client.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # The API takes the token from the URL without a redirect.
    r = client.get(f"/api/gc?token={client.token}", token=False)
    assert r.status == 200 and "counts" in r.json()
    # A bearer header works for scripts.
    r = client.get("/api/gc", token=False,
                   headers={"Authorization": f"Bearer {client.token}"})
    assert r.status == 200


def test_token_redirect_never_leaves_the_console(client):
    """The token-for-cookie redirect never sends the browser to another
    site: a path like "//evil.example/x" (a protocol-relative link, as a
    Location) is replaced by "/"."""
    for path in ("//evil.example/x", "//evil.example", "///evil.example"):
        r = client.get(f"{path}?token={client.token}", token=False)
        assert r.status == 303, path
        assert r.headers["location"] == "/", (path, r.headers["location"])


def test_wrong_host_is_421(client):
    for host in ("evil.example", f"evil.example:{client.port}",
                 "127.0.0.1:1", "127.0.0.2:%d" % client.port, ""):
        r = client.get("/", headers={"Host": host})
        assert r.status == 421, host
        assert "Host header not allowed" in r.text
    for host in (f"127.0.0.1:{client.port}", f"localhost:{client.port}",
                 f"LOCALHOST:{client.port}"):
        assert client.get("/api/gc", headers={"Host": host}).status == 200


def test_post_without_csrf_is_403(client):
    gc.collect()
    before = gc.get_stats()[2]["collections"]
    r = client.post("/action/collect", None)
    assert r.status == 403 and "missing CSRF token" in r.text
    r = client.post("/action/collect", "f" * 48)
    assert r.status == 403 and "wrong CSRF token" in r.text
    # The access token is not the CSRF token.
    r = client.post("/action/collect", client.token)
    assert r.status == 403
    assert gc.get_stats()[2]["collections"] == before


def test_cross_origin_post_is_403(client):
    csrf = client.csrf()
    r = client.post("/action/collect", csrf,
                    headers={"Origin": "http://evil.example"})
    assert r.status == 403 and "cross-origin" in r.text
    r = client.post("/action/collect", csrf,
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status == 403 and "cross-site" in r.text


def test_post_with_csrf_runs_the_action(client):
    csrf = client.csrf()
    before = gc.get_stats()[2]["collections"]
    r = client.post("/action/collect?back=gc", csrf, headers={
        "Origin": f"http://127.0.0.1:{client.port}",
        "Sec-Fetch-Site": "same-origin"})
    assert r.status == 303 and r.headers["location"] == "/gc"
    assert gc.get_stats()[2]["collections"] == before + 1
    assert "last_collect" in client.json("/api/gc")
    # The header form works too (for scripts).
    r = client.request("POST", "/action/collect",
                       headers={"X-CSRF-Token": csrf})
    assert r.status == 303


def test_get_never_collects(client):
    gc.disable()   # so that every collection counted is an explicit one
    try:
        before = [s["collections"] for s in gc.get_stats()]
        for path in ("/", "/gc", "/memory", "/leaks", "/modules",
                     "/threads", "/api/memory"):
            assert client.get(path).status == 200
        assert client.get("/action/collect").status == 405
        assert [s["collections"] for s in gc.get_stats()] == before
    finally:
        gc.enable()


def test_unknown_action_and_page(client):
    assert client.post("/action/eval", client.csrf()).status == 404
    assert client.get("/eval?code=1").status == 404
    assert client.get("/api/nothing").status == 404


@pytest.mark.parametrize("path", [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/../console.py",
    "/static/..%2fconsole.py", "/./gc", "/object/..", "/a\\..\\b",
])
def test_path_traversal_is_refused(client, path):
    r = client.get(path)
    assert r.status == 400
    assert b"root:" not in r.body


def test_methods_other_than_get_head_post_are_405(client):
    for method in ("PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"):
        assert client.request(method, "/").status == 405
    r = client.request("HEAD", "/process")
    assert r.status == 200 and r.body == b""


@pytest.mark.parametrize("raw, want", [
    # Not HTTP at all: libmicrohttpd closes the connection without a word.
    (b"GARBAGE\r\n\r\n", None),
    (b"\x00\x01\x02\r\n\r\n", None),
    (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),                 # no Host
    (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
     b"Content-Length: abc\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505),
])
def test_malformed_requests(client, raw, want):
    answer = client.raw(raw, timeout=1.5)
    if want is None:
        assert answer == b""
    else:
        assert answer.startswith(b"HTTP/1.1 %d " % want), answer[:60]


def test_oversized_requests(client):
    # A long URL, a huge header, a big body, too many arguments.
    r = client.get("/" + "a" * 40000)
    assert r.status == 414
    r = client.get("/", headers={"X-Big": "b" * 40000})
    assert r.status == 431
    csrf = client.csrf()
    r = client.request("POST", "/action/collect", body="csrf=" + csrf +
                       "&pad=" + "x" * 5000, headers={
                           "Content-Type":
                           "application/x-www-form-urlencoded"})
    assert r.status == 413
    query = "&".join(f"k{i}=v" for i in range(40))
    assert client.get("/modules?" + query).status == 400
    assert client.get("/modules?k=" + "v" * 600).status == 400


def test_bad_page_arguments_are_400(client):
    for q in ("page=0", "page=x", "per=100000", "sort=id", "order=up",
              "page=-1"):
        r = client.get("/modules?" + q)
        assert r.status == 400, q
    assert client.get("/leaks?view=everything").status == 400


def test_handles_never_existing_or_dead(client):
    class Victim:
        pass

    for h in ("AAAAAAAAAAAAAAAA", "140737488355328", "0x7f0000000000",
              "%00", "x" * 100, str(id(client))):
        r = client.get(f"/object/{h}")
        assert r.status in (400, 404), h
    # A real handle to an object that then dies: 410 Gone.
    v = Victim()
    path = console.object_url(v)
    r = client.get(path)
    assert r.status == 200 and "Victim" in r.text
    del v
    gc.collect()
    r = client.get(path)
    assert r.status == 410 and "object gone" in r.text
    # A handle of a non-weakrefable object keeps it alive, and says so.
    d = {"k": 1}
    r = client.json("/api/" + console.object_url(d)[1:])
    assert r["type"] == "dict"
    assert client.json("/api/")["console"]["kept_alive"] >= 1
