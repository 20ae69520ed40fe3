#!/usr/bin/env python3
"""Drives the query service's web console in headless Chromium over the DevTools protocol (standard library only).

Usage: browser_test.py SERVICE_URL ANALYST_TOKEN AUDITOR_TOKEN SCREENSHOT.png

Loads the console, signs in as the analyst, asks the cost of a grouped query on the health panel, runs it, checks the
rendered table (five years, a 95% interval per count, the charge and the remaining budget) and the past queries,
saves a screenshot, then signs in as the auditor and checks the live budget report. Exits 1 with a message on failure.
"""
import base64, json, os, re, shutil, socket, struct, subprocess, sys, tempfile, time, urllib.request


class WebSocket:
    """A minimal RFC 6455 client: text frames out (masked), text frames in (with continuations)."""

    def __init__(self, url):
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake failed: " + head.decode(errors="replace"))

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools connection closed")
            data += chunk
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            n = second & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = first & 0x0F
            if opcode in (0x8, 0x9, 0xA):
                continue
            message += payload
            if first & 0x80:
                return message.decode()


class Page:
    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, script):
        result = self.call("Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError("script failed: " + json.dumps(result["exceptionDetails"])[:500])
        return result["result"].get("value")


WAIT = """
const until = async (test, what) => {
  for (let i = 0; i < 300; i++) { const v = test(); if (v) return v; await new Promise(r => setTimeout(r, 50)); }
  throw new Error('timed out waiting for ' + what + '; message: ' + document.getElementById('message').textContent);
};
"""

ANALYST = """
(async () => {""" + WAIT + """
  await until(() => document.readyState === 'complete' && document.getElementById('token'), 'the page');
  document.getElementById('token').value = %s;
  document.getElementById('login').requestSubmit();
  await until(() => !document.getElementById('analyst').hidden && document.querySelector('#budget tbody tr'), 'sign-in');
  document.getElementById('epsilon').value = '0.5';
  document.getElementById('purpose').value = 'visits per year';
  document.getElementById('cost-button').click();
  const cost = await until(() => document.getElementById('cost').textContent, 'the cost');
  document.getElementById('query-form').requestSubmit();
  await until(() => document.querySelectorAll('#result tbody tr').length && document.querySelectorAll('#history tbody tr').length, 'the result');
  const text = (rows) => [...rows].map(r => [...r.cells].map(c => c.textContent));
  return {
    cost,
    header: text(document.querySelectorAll('#result thead tr'))[0],
    rows: text(document.querySelectorAll('#result tbody tr')),
    charge: document.getElementById('charge').textContent,
    budget: text(document.querySelectorAll('#budget tbody tr')),
    history: text(document.querySelectorAll('#history tbody tr')),
  };
})()
"""

AUDITOR = """
(async () => {""" + WAIT + """
  await until(() => document.readyState === 'complete' && document.getElementById('token'), 'the page');
  document.getElementById('token').value = %s;
  document.getElementById('login').requestSubmit();
  await until(() => !document.getElementById('auditor').hidden && document.getElementById('report').srcdoc, 'the report');
  return { report: document.getElementById('report').srcdoc, head: document.getElementById('audit-head').textContent,
           analystHidden: document.getElementById('analyst').hidden };
})()
"""


def wait_until_loaded(page, service):
    """Waits until the tab shows the console's own document, fully loaded and not the one marked as old.

    Chromium opens its first tab on about:blank and then navigates, and Page.navigate replaces the document; a
    script evaluated across that switch fails with "Execution context was destroyed". Only this side-effect-free
    check is retried; the scripts that sign in and query run once, on the loaded page."""
    check = ("location.href.startsWith(%s) && document.readyState === 'complete' && "
             "!!document.getElementById('token') && !window.veilTestOldDocument") % json.dumps(service)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if page.evaluate(check):
                return
        except RuntimeError:
            pass  # the document was being replaced
        time.sleep(0.1)
    fail("the console page did not load within 30 s")


def fail(message):
    print("browser test: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    service, analyst, auditor, screenshot = sys.argv[1:5]
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        fail("no chromium on PATH (install Debian's chromium: `make browser-test` does)")
    profile = tempfile.mkdtemp(prefix="veil-browser-")
    process = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-port=0",
                                f"--user-data-dir={profile}", "--window-size=1200,1150", service + "/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline:
            line = process.stderr.readline()
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if match:
                port = int(match.group(1))
            elif not line and process.poll() is not None:
                break
        if port is None:
            fail("chromium did not start")
        pages = []
        while not pages and time.time() < deadline:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            pages = [t for t in targets if t.get("type") == "page"]
            time.sleep(0.1)
        page = Page(pages[0]["webSocketDebuggerUrl"])
        page.call("Runtime.enable")
        wait_until_loaded(page, service)
        result = page.evaluate(ANALYST % json.dumps(analyst))
        header, rows = result["header"], result["rows"]
        if header != ["year", "n", "95% CI"]:
            fail(f"unexpected table header {header}")
        if [r[0] for r in rows] != ["1984", "1985", "1986", "1987", "1988"]:
            fail(f"unexpected rows {rows}")
        for year, count, interval in rows:
            low, high = (float(x) for x in re.match(r"\[(.+), (.+)\]", interval).groups())
            if not (low <= float(count) <= high) or not (1000 < float(count) < 10000):
                fail(f"row {year}: count {count} and interval {interval} are not plausible")
        if not result["cost"].startswith("cost: ε 0.5, δ 0"):
            fail("unexpected cost line: " + result["cost"])
        if "charged ε 0.5, δ 0" not in result["charge"]:
            fail("unexpected charge line: " + result["charge"])
        if result["budget"][0][1] != "0.5":
            fail(f"budget table not updated: {result['budget']}")
        if "visits per year | SELECT year" not in result["history"][0][2]:
            fail(f"history does not show the query: {result['history']}")
        shot = page.call("Page.captureScreenshot", format="png")
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        page.evaluate("sessionStorage.clear(); window.veilTestOldDocument = true")
        page.call("Page.navigate", url=service + "/")
        wait_until_loaded(page, service)
        audit = page.evaluate(AUDITOR % json.dumps(auditor))
        if "health_panel" not in audit["report"] or not audit["head"].startswith("chain head: entry") or not audit["analystHidden"]:
            fail("the auditor's view does not show the live report")
        print(f"browser test: ok ({len(rows)} rows rendered with intervals; screenshot {screenshot})")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
