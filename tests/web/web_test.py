#!/usr/bin/python3
"""The calculator page in a real browser: Debian's headless Chromium driven through
chromedriver's W3C WebDriver API (plain HTTP, no client library). The page is loaded
from file://, the form is filled by typing, and every figure is compared with what
tunnel-mtu --json prints for the same stack (the CLI is the oracle: the page must
never disagree with it). Also: the layer builder, errors with the caret, the state in
the URL, labels for every control, no horizontal scrolling at phone width; screenshots
at desktop and phone width; the bundle size and the time to the first result.

    web_test.py path/to/index.html path/to/tunnel-mtu SCREENSHOT_DIR
Exit 77 (skipped) when chromium or chromedriver is missing.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

page, cli, shots = sys.argv[1], sys.argv[2], sys.argv[3]
chromium = shutil.which("chromium") or "/usr/bin/chromium"
driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.path.exists(chromium) and os.path.exists(driver)):
    print("SKIP: chromium or chromedriver missing (apt-get install chromium chromium-driver)")
    sys.exit(77)
os.makedirs(shots, exist_ok=True)

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
KEYS = ["esp_plaintext_mtu", "cisco_plaintext_mtu", "max_inner", "tcp_mss_ipv4", "tcp_mss_ipv6", "overhead_at_max",
        "wire_size_at_max", "overhead_min", "overhead_max"]

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
base = f"http://127.0.0.1:{port}"
proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
profile = tempfile.mkdtemp(prefix="encap-web-")
failures = []


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")["value"]


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


try:
    for _ in range(100):
        try:
            call("GET", "/status")
            break
        except OSError:
            time.sleep(0.05)
    # the flags that keep Chromium off the (closed) network, as root without a sandbox
    sid = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": chromium,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"]}}}})["sessionId"]
    S = f"/session/{sid}"

    def js(script, *args):
        return call("POST", S + "/execute/sync", {"script": script, "args": list(args)})

    def find(css):
        return call("POST", S + "/element", {"using": "css selector", "value": css})[ELEMENT]

    def text(css):
        return call("GET", S + f"/element/{find(css)}/text")

    def type_into(css, value):
        e = find(css)
        call("POST", S + f"/element/{e}/clear", {})
        call("POST", S + f"/element/{e}/value", {"text": value})

    def wait(script, what, timeout=10.0):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if js(script):
                return True
            time.sleep(0.05)
        check(False, "timed out waiting for " + what)
        return False

    def cli_json(spec, mtu, inner=None):
        args = [cli, "--json", "--mtu", str(mtu)] + (["--inner-mtu", str(inner)] if inner else []) + [spec]
        r = subprocess.run(args, capture_output=True, text=True)
        return json.loads(r.stdout) if r.returncode == 0 else None

    url = "file://" + os.path.abspath(page)
    t0 = time.time()
    call("POST", S + "/url", {"url": url})
    wait("return document.body.dataset.ready === '1'", "the WebAssembly module")
    load_s = time.time() - t0
    first_ms = js("return document.body.dataset.firstResultMs")
    bundle = os.path.getsize(os.path.join(os.path.dirname(page), "encap-calc.js"))
    print(f"bundle: encap-calc.js {bundle} bytes (WebAssembly inside); index.html {os.path.getsize(page)} bytes")
    print(f"time to first result: {first_ms} ms after navigation start (page ready {load_s:.2f} s as seen by WebDriver)")

    # every figure, typed into the form, against the CLI (stacks of every kind the grammar has)
    cases = [
        ("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre", 1500, 1500),   # the reference tunnel: 1438 / 1414 (DESIGN.md)
        ("ipv4/esp(aes-256-cbc,hmac-sha1-96)/gre", 1500, None),        # transport mode: 1434
        ("ipv4/udp/esp(aes-128-gcm-16)/ipv4", 1500, 1400),
        ("ipv6/esp(chacha20-poly1305)/ipv6", 1280, None),
        ("ipv4/esp(aes-256-gcm-16,tfc=512)/ipv4", 9000, None),
        ("ipv6/udp/wireguard/ipv4", 1420, 1280),
        ("ipv4/udp/vxlan/eth/ipv4", 1500, None),
        ("eth(qinq)/mpls(2)/ipv4", 1522, None),
        ("pppoe/ipv4", 1500, None),
        ("ipv4/gre(csum,key,seq)", 65535, None),  # IPv4's largest packet (RFC 791)
        ("ipv6/gre/ipv4", 65575, None),           # IPv6's: 65535 + its 40-byte header (RFC 8200)
    ]
    for spec, mtu, inner in cases:
        type_into("#spec", spec)
        type_into("#mtu", str(mtu))
        type_into("#inner", str(inner) if inner else "")
        want = f"{spec}|{mtu}|{inner or 0}"
        if not wait(f"return document.getElementById('results').dataset.for === {json.dumps(want)}", spec):
            continue
        ref = cli_json(spec, mtu, inner)
        got = {k: text("#" + k) for k in KEYS + ["required_mtu"]}
        exp = {k: ("–" if ref[k] is None else str(ref[k])) for k in KEYS}
        exp["required_mtu"] = str(ref["required_mtu"]) if inner else "–"
        check(got == exp, f"{spec} at MTU {mtu}{f', inner {inner}' if inner else ''}: page {got['max_inner']} max inner"
                          f" = CLI {ref['max_inner']}; all {len(exp)} figures equal" + ("" if got == exp else f": {got} vs {exp}"))

    # limits: an IPv4 MTU over 65535 is an error, as in the CLI; an IPv6 tunnel below 1280 warns
    type_into("#spec", "ipv4/gre/ipv4")
    type_into("#mtu", "65536")
    wait("return document.getElementById('error').textContent.includes('Total Length')", "the 65536 error")
    check("IPv4's Total Length is 16 bits" in text("#error"), f"MTU 65536 over IPv4 is refused: {text('#error')!r}")
    type_into("#spec", "ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv6")
    type_into("#mtu", "1300")
    wait("return document.getElementById('warnings').textContent.includes('1352')", "the IPv6 warning")
    check("below IPv6's minimum of 1280" in text("#warnings") and "1352" in text("#warnings"),
          f"an IPv6 tunnel below 1280 warns, with the underlay it needs: {text('#warnings')!r}")
    check(text("#cisco_plaintext_mtu") == str(cli_json("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv6", 1300)["cisco_plaintext_mtu"]),
          "the Cisco/Linux figure equals the CLI's")

    # the builder: the rows follow the spec, and editing a row rewrites the spec
    type_into("#spec", "ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre")
    type_into("#mtu", "1500")
    rows = js("return Array.from(document.querySelectorAll('#layers li select')).map(s => s.value)")
    check(rows == ["ipv4", "esp", "ipv4", "gre"], f"builder rows follow the spec: {rows}")
    type_into("#layers li:nth-child(2) input", "aes-256-gcm-16")
    check(js("return document.getElementById('spec').value") == "ipv4/esp(aes-256-gcm-16)/ipv4/gre",
          "editing a row rewrites the spec")
    ref = cli_json("ipv4/esp(aes-256-gcm-16)/ipv4/gre", 1500)
    check(text("#max_inner") == str(ref["max_inner"]), f"and the figures follow: max inner {ref['max_inner']}")
    call("POST", S + f"/element/{find('#add')}/click", {})
    check(js("return document.getElementById('spec').value").endswith("/gre/ipv4"), "Add a layer appends ipv4")
    check(js("return document.activeElement === document.querySelector('#layers li:last-child select')"),
          "and moves the keyboard focus to it")

    # a parser error with the caret, as the CLI prints it
    bad = "ipv4/esp(aes-256-cbx,hmac-sha1-96)/ipv4"
    type_into("#spec", bad)
    wait("return document.getElementById('error').textContent.length > 0", "the error")
    cli_err = subprocess.run([cli, "--mtu", "1500", bad], capture_output=True, text=True).stderr
    page_err = text("#error")
    caret = [l for l in page_err.splitlines() if l.strip().startswith("^")]
    check(len(caret) == 1 and caret[0].strip() in cli_err and page_err.splitlines()[0] in cli_err,
          "a bad cipher name: the CLI's message and caret line, in the page")
    check(text("#max_inner") == "–", "no figures for a bad spec")

    # the state is in the URL: a fresh load of it restores the form and the figures
    type_into("#spec", "ipv4/udp/esp(aes-128-gcm-16)/ipv4")
    type_into("#mtu", "1400")
    # the address follows a moment after typing stops (the page debounces its history updates)
    wait("return location.hash === '#spec=ipv4%2Fudp%2Fesp%28aes-128-gcm-16%29%2Fipv4&mtu=1400'",
         "the address to take the typed stack and MTU")
    link = js("return location.href")
    call("POST", S + "/url", {"url": "about:blank"})
    call("POST", S + "/url", {"url": link})
    wait("return document.body.dataset.ready === '1'", "the shared link")
    ref = cli_json("ipv4/udp/esp(aes-128-gcm-16)/ipv4", 1400)
    check(js("return document.getElementById('spec').value") == "ipv4/udp/esp(aes-128-gcm-16)/ipv4"
          and text("#max_inner") == str(ref["max_inner"]), f"a shared link restores the stack and MTU: {link.split('#')[1]}")

    # usable without a mouse: every control has a label, every action is a button
    unlabelled = js("""return Array.from(document.querySelectorAll('input, select, button')).filter(e =>
        !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.outerHTML)""")
    check(unlabelled == [], f"every control has an accessible name ({unlabelled})")
    check(js("return document.querySelectorAll('[onclick], div[tabindex], span[tabindex]').length") == 0,
          "no click handlers on non-controls")

    # desktop and phone width: screenshots, and no sideways scrolling on the phone
    type_into("#spec", "ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre")
    type_into("#mtu", "1500")
    type_into("#inner", "1500")
    for name, (w, h) in {"desktop": (1280, 1000), "phone": (390, 844)}.items():
        call("POST", S + "/window/rect", {"width": w, "height": h})
        time.sleep(0.3)
        if name == "phone":
            sw, iw = js("return [document.documentElement.scrollWidth, window.innerWidth]")
            check(sw <= iw, f"phone width: no horizontal scrolling (content {sw} px, window {iw} px)")
        png = base64.b64decode(call("GET", S + "/screenshot"))
        path = os.path.join(shots, f"web-{name}.png")
        with open(path, "wb") as f:
            f.write(png)
        print(f"screenshot {name} {w}x{h}: {path} ({len(png)} bytes)")
    call("DELETE", S)
finally:
    proc.terminate()
    shutil.rmtree(profile, ignore_errors=True)

print(f"{len(failures)} failed" if failures else "web: all checks passed")
sys.exit(1 if failures else 0)
