"""A small HTTPS client for the ACC tests: a real TLS connection that
trusts the test CA, a cookie jar that keeps the Set-Cookie attributes for
inspection, and helpers to read the CSRF token and the settings blocks
from a page."""
import html
import http.client
import re
import ssl
import urllib.parse

CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')
SETTINGS = re.compile(r'<section class="mailbox" id="[^"]*"><h2>([^<]*)</h2>.*?<pre class="settings">(.*?)</pre>', re.S)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # http.client.HTTPMessage
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name)

    def set_cookies(self):
        return self.headers.get_all("Set-Cookie") or []

    def csrf(self):
        m = CSRF.search(self.text)
        return m.group(1) if m else None

    def settings(self):
        """{address: "key: value\\n..."} from the E-Mail Management page."""
        return {html.unescape(a): html.unescape(s) for a, s in SETTINGS.findall(self.text)}

    def __repr__(self):
        return f"Response({self.status}, {self.text[:300]!r})"


class AccClient:
    def __init__(self, hm, source=None):
        self.hm = hm
        self.source = source
        self.ctx = ssl.create_default_context(cafile=hm.pki["ca"])
        self.cookies = {}
        self.timeout = 20

    def request(self, method, path, form=None, headers=None, raw_body=None, cookies=True, sent=None):
        """sent: called once the request is written, before its answer is read."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.hm.acc_port, context=self.ctx, timeout=self.timeout,
                                           source_address=(self.source, 0) if self.source else None)
        hdrs = dict(headers or {})
        body = raw_body
        if form is not None:
            body = urllib.parse.urlencode(form)
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if cookies and self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=hdrs)
            if sent:
                sent()
            r = conn.getresponse()
            resp = Response(r.status, r.msg, r.read())
        finally:
            conn.close()
        for sc in resp.set_cookies():
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in sc.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, **kw):
        return self.request("POST", path, form=form, **kw)

    def login(self, account, password):
        page = self.get("/login")
        assert page.status == 200, page
        return self.post("/login", {"csrf": page.csrf(), "account": account, "password": password})

    def csrf(self):
        """The session's CSRF token, from a logged-in page."""
        page = self.get("/overview")
        assert page.status == 200, page
        return page.csrf()
