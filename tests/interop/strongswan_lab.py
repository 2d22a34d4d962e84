#!/usr/bin/env python3
"""encap against a real IKEv2 peer: strongSwan 5.9 (charon with kernel-libipsec: ESP in
user space over UDP 4500, so no kernel xfrm algorithms are needed).

Two network namespaces joined by a veth pair, a charon in each (private /run, own
STRONGSWAN_CONF), IKEv2 with a pre-shared key. charon logs the CHILD_SA keys (chd = 4);
its log names the SPIs ("CHILD_SA c{N} established with SPIs X_i Y_o"). For each suite
libipsec negotiates here:

  passive  every ESP packet captured between the two strongSwan peers, both directions,
           during a ping and a TCP transfer, is opened by encap (examples/esp-decrypt,
           the run-time endpoint and one SA table) to exactly an inner packet that the
           peers' own TUN device (ipsec0) carried;
  active   the responder's charon is killed (SIGKILL: no IKE DELETE reaches the
           initiator), and encap's examples/ipsec-tunnel takes over its SAs, outbound
           sequence numbers continuing past the last one captured; the kernel's ping and
           a 4 MiB TCP transfer each way between the inner addresses pass between
           strongSwan and encap, with equal SHA-256 at both ends.
  rekey    (one suite) a CHILD_SA rekey time of 4 s on the initiator: a transfer runs
           across at least two rekeys, and every captured packet of the old and the new
           SAs opens through one SA table.

  throughput  (--throughput, issue 11 item 5) TCP goodput in one run over the same
           veth pair: bare (outer addresses, no tunnel), strongSwan's libipsec on both
           sides, and encap's ipsec-tunnel on both sides with the SAs strongSwan
           negotiated; each transfer runs a fixed time and every byte sent must arrive,
           in order and unchanged (the receiver checks each against the sender's pattern).

Usage: strongswan_lab.py ESP_DECRYPT IPSEC_TUNNEL WORKDIR [--throughput[=SECONDS]] [suite ...]
Exit 77 (skipped) without root or without strongSwan.
"""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

CHARON = "/usr/lib/ipsec/charon"
# strongSwan ESP proposal -> what libipsec negotiated on this machine class
# (../shared/recipes/strongswan-lab.md; GMAC and NULL do not establish; ESN is refused)
SUITES = ["aes128gcm16", "aes256gcm16", "aes128gcm8", "chacha20poly1305", "aes128ccm16",
          "aes128-sha1", "aes256-sha256", "aes256-sha512", "aes128ctr-sha256"]

A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_IN, B_IN = "10.1.0.1", "10.2.0.1"


def sh(cmd, check=True, **kw):
    r = subprocess.run(cmd, shell=True, text=True, capture_output=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


class Lab:
    def __init__(self, work, tag):
        self.work = work
        self.ns = {"A": f"ssA{tag}", "B": f"ssB{tag}"}
        self.procs = {}
        self.caps = []

    def nsx(self, side, cmd, **kw):
        return sh(f"ip netns exec {self.ns[side]} {cmd}", **kw)

    def up(self, proposal, rekey_a="1h"):
        a, b = self.ns["A"], self.ns["B"]
        for n in (a, b):
            sh(f"ip netns del {n}", check=False)
            sh(f"ip netns add {n}")
            sh(f"ip -n {n} link set lo up")
        sh(f"ip link add vA netns {a} type veth peer name vB netns {b}")
        sh(f"ip -n {a} addr add {A_OUT}/24 dev vA && ip -n {a} link set vA up")
        sh(f"ip -n {b} addr add {B_OUT}/24 dev vB && ip -n {b} link set vB up")
        sh(f"ip -n {a} addr add {A_IN}/32 dev lo && ip -n {b} addr add {B_IN}/32 dev lo")
        # veth hands packets over with the UDP checksum not yet filled in (checksum
        # offload); a raw socket and a capture see it unfilled. Compute it in software,
        # as a NIC would have on the wire.
        sh(f"ip netns exec {a} ethtool -K vA tx off && ip netns exec {b} ethtool -K vB tx off")
        sh(f"ip netns exec {b} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
        for side, (lo, ro, lt, rt, start, rekey) in {
                "A": (A_OUT, B_OUT, A_IN, B_IN, "start", rekey_a),
                "B": (B_OUT, A_OUT, B_IN, A_IN, "none", "1h")}.items():
            d = os.path.join(self.work, side)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(f"{d}/run")
            os.makedirs(f"{d}/swanctl/conf.d")
            with open(f"{d}/strongswan.conf", "w") as f:
                f.write(f"""charon {{
  load = random nonce aes sha1 sha2 hmac gcm chapoly ctr ccm cmac xcbc curve25519 gmp kdf pem pkcs1 x509 pubkey socket-default kernel-libipsec kernel-netlink vici
  install_routes = yes
  retransmit_tries = 3
  filelog {{ log {{ path = {d}/charon.log
      default = 1
      flush_line = yes
      chd = 4
      ike = 1 }} }}
  plugins {{ vici {{ socket = unix://{d}/run/charon.vici }} }}
}}
""")
            with open(f"{d}/swanctl/swanctl.conf", "w") as f:
                f.write("include conf.d/*.conf\n")
            with open(f"{d}/swanctl/conf.d/t.conf", "w") as f:
                f.write(f"""connections {{ t {{ local_addrs = {lo}
  remote_addrs = {ro}
  encap = yes
  rekey_time = 1h
  proposals = aes256-sha256-x25519
  local {{ auth = psk
    id = {lo} }}
  remote {{ auth = psk
    id = {ro} }}
  children {{ c {{ local_ts = {lt}/32
    remote_ts = {rt}/32
    esp_proposals = {proposal}
    rekey_time = {rekey}
    rand_time = 0
    life_time = {"30s" if rekey != "1h" else "2h"}
    start_action = {start} }} }} }} }}
secrets {{ ike-1 {{ secret = "a-long-test-only-secret" }} }}
""")
            self.procs[side] = subprocess.Popen(
                ["ip", "netns", "exec", self.ns[side], "unshare", "-m", "--propagation", "private", "sh", "-c",
                 f"mount -t tmpfs none /run; STRONGSWAN_CONF={d}/strongswan.conf exec {CHARON}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for side in ("B", "A"):  # the responder first
            d = os.path.join(self.work, side)
            for _ in range(100):
                if os.path.exists(f"{d}/run/charon.vici"):
                    break
                time.sleep(0.05)
            self.nsx(side, f"swanctl --load-all --uri unix://{d}/run/charon.vici --file {d}/swanctl/swanctl.conf")
        for _ in range(100):
            if self.installed("A") and self.installed("B") and self.has_route("A") and self.has_route("B"):
                return True
            time.sleep(0.1)
        return False

    def swanctl(self, side, args):
        d = os.path.join(self.work, side)
        return self.nsx(side, f"swanctl {args} --uri unix://{d}/run/charon.vici", check=False)

    def installed(self, side):
        return "INSTALLED" in self.swanctl(side, "--list-sas")

    def has_route(self, side):
        return "ipsec0" in self.nsx(side, "ip route show table all", check=False)

    def capture(self, side, dev, path, filt=""):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[side], "tcpdump", "-i", dev, "--immediate-mode", "-U", "-B", "16384", "-s", "0", "-w", path] + ([filt] if filt else []),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.caps.append(p)
        time.sleep(0.5)
        return p

    def stop_captures(self):
        time.sleep(0.5)
        self.capture_stats = []
        for p in self.caps:
            p.send_signal(signal.SIGINT)
            self.capture_stats.append(p.communicate(timeout=10)[1].decode(errors="replace").strip().replace("\n", "; "))
        self.caps = []

    def kill_charon(self, side):
        p = self.procs.pop(side)
        os.killpg(p.pid, signal.SIGKILL)  # no IKE DELETE: the peer keeps its SAs
        p.wait()

    def down(self):
        for p in self.caps:
            p.kill()
        for side, p in list(self.procs.items()):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        for n in self.ns.values():
            sh(f"ip netns del {n}", check=False)


# ---- keys and SPIs from charon's log -----------------------------------------------------

KEY_RE = re.compile(r"\[CHD\] (encryption|integrity) (initiator|responder) key => (\d+) bytes")
ROW_RE = re.compile(r"\[CHD\]\s+\d+: ((?:[0-9A-F]{2} ){1,16})")
EST_RE = re.compile(r"CHILD_SA \S+ established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o")


def no_child_sa(work):
    """Why no CHILD_SA came up, as far as charon's log says: a plugin that did not load
    (AES-GCM is libstrongswan-standard-plugins' gcm plugin) is the usual cause."""
    why = "no CHILD_SA installed"
    try:
        with open(os.path.join(work, "A", "charon.log"), errors="replace") as f:
            missing = sorted(set(re.findall(r"plugin '(\w+)': failed to load", f.read())))
    except OSError:
        return why
    return why + (f" (charon could not load its plugins {', '.join(missing)}: is libstrongswan-standard-plugins installed?)"
                  if missing else "")


def child_sas(log_path):
    """[(spi_in, spi_out, keys)] in order, from the initiator's log: keys are
    {("encryption"|"integrity", "initiator"|"responder"): bytes} of the CHILD_SA established next."""
    out, keys, cur, need = [], {}, None, 0
    with open(log_path, errors="replace") as f:
        for line in f:
            m = KEY_RE.search(line)
            if m:
                cur, need = (m.group(1), m.group(2)), int(m.group(3))
                keys[cur] = b""
                continue
            m = ROW_RE.search(line)
            if m and cur and len(keys[cur]) < need:
                keys[cur] += bytes.fromhex(m.group(1).replace(" ", ""))
                continue
            m = EST_RE.search(line)
            if m:  # (a rekey logs "inbound CHILD_SA ... established", then "outbound ...": one SA pair)
                if out and out[-1][:2] == (m.group(1), m.group(2)):
                    continue
                out.append((m.group(1), m.group(2), dict(keys)))
                keys, cur = {}, None
    return out


def xfrm_lines(proposal, sas, seq=None):
    """`ip xfrm state` lines for every CHILD_SA (A is the initiator of each: its
    initiator keys protect A -> B, sent with A's outbound SPI)."""
    name = proposal.split("-")[0]
    aead = {"aes128gcm16": ("rfc4106(gcm(aes))", 128), "aes256gcm16": ("rfc4106(gcm(aes))", 128),
            "aes128gcm8": ("rfc4106(gcm(aes))", 64), "chacha20poly1305": ("rfc7539esp(chacha20,poly1305)", 128),
            "aes128ccm16": ("rfc4309(ccm(aes))", 128)}.get(name)
    enc = {"aes128": "cbc(aes)", "aes256": "cbc(aes)", "aes128ctr": "rfc3686(ctr(aes))"}.get(name)
    auth = {"sha1": ("hmac(sha1)", 96), "sha256": ("hmac(sha256)", 128), "sha512": ("hmac(sha512)", 256)}
    lines = []
    for spi_in, spi_out, k in sas:
        for src, dst, spi, role in ((A_OUT, B_OUT, spi_out, "initiator"), (B_OUT, A_OUT, spi_in, "responder")):
            l = f"ip xfrm state add src {src} dst {dst} proto esp spi 0x{spi} mode tunnel "
            if aead:
                l += f"aead '{aead[0]}' 0x{k[('encryption', role)].hex()} {aead[1]}"
            else:
                a = auth[proposal.split("-")[1]]
                l += f"enc '{enc}' 0x{k[('encryption', role)].hex()} auth-trunc '{a[0]}' 0x{k[('integrity', role)].hex()} {a[1]}"
            if seq and spi in seq:
                l += f" {seq[spi]}"
            l += " encap espinudp 4500 4500 0.0.0.0"
            lines.append(l)
    return lines


# ---- pcaps --------------------------------------------------------------------------------

def pcap_packets(path):
    """The IP packets of a classic pcap (Ethernet, raw IP or Linux cooked v1)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    assert magic == 0xa1b2c3d4, f"{path}: not a little-endian pcap"
    link, = struct.unpack("<I", data[20:24])
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        p = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if link == 1:
            p = p[14:]
        elif link == 113:
            p = p[16:]
        out.append(bytes(p))
    return out


def tcp_stream(packets, dport):
    """The payload bytes of the IPv4 TCP segments to `dport`, in sequence order (duplicates once)."""
    seg = {}
    for p in packets:
        if len(p) < 40 or p[0] >> 4 != 4 or p[9] != 6:
            continue
        ihl = (p[0] & 15) * 4
        total = int.from_bytes(p[2:4], "big")
        if int.from_bytes(p[ihl + 2:ihl + 4], "big") != dport:
            continue
        off = (p[ihl + 12] >> 4) * 4
        data = p[ihl + off:total]
        if data:
            seg[int.from_bytes(p[ihl + 4:ihl + 8], "big")] = data
    out, nxt = b"", None
    for seq in sorted(seg):
        d = seg[seq]
        if nxt is not None and seq < nxt:
            d = d[nxt - seq:]
        out += d
        nxt = seq + len(seg[seq]) if nxt is None or seq + len(seg[seq]) > nxt else nxt
    return out


def icmp_echoes(packets):
    return sum(1 for p in packets if len(p) >= 28 and p[0] >> 4 == 4 and p[9] == 1 and p[(p[0] & 15) * 4] in (0, 8))


def run_decrypt(tool, capture, lines, out_pcap, work):
    path = os.path.join(work, "sa-lines")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([tool, capture, path, out_pcap, "--window", "4096"], text=True, capture_output=True)
    return r.returncode, r.stdout + r.stderr


def highest_seq(report):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"SPI 0x([0-9a-f]{8}): \d+ opened, highest sequence number (\d+)", report)}


def opened_count(report):
    return sum(int(x) for x in re.findall(r": (\d+) opened", report))


# ---- traffic ------------------------------------------------------------------------------

TCP_SERVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    h.update(d); n += len(d)
print(n, h.hexdigest())
"""

TCP_CLIENT = r"""
import hashlib, socket, sys, time
data = open(sys.argv[3], 'rb').read(); rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
if rate:
    step = 16384
    for i in range(0, len(data), step):
        c.sendall(data[i:i + step]); time.sleep(step / rate)
else:
    c.sendall(data)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
print(len(data), hashlib.sha256(data).hexdigest())
"""


def tcp_transfer(lab, src_side, dst_side, dst_addr, size, work, port, rate=0):
    blob = os.path.join(work, f"blob-{size}")
    if not os.path.exists(blob):
        with open(blob, "wb") as f:
            f.write(os.urandom(size))
    srv = subprocess.Popen(["ip", "netns", "exec", lab.ns[dst_side], sys.executable, "-c", TCP_SERVER, dst_addr, str(port)],
                           text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.4)
    cli = subprocess.run(["ip", "netns", "exec", lab.ns[src_side], sys.executable, "-c", TCP_CLIENT, dst_addr, str(port), blob]
                         + ([str(rate)] if rate else []), text=True, capture_output=True, timeout=120)
    got = srv.communicate(timeout=120)[0].strip()
    sent = cli.stdout.strip()
    return sent == got and got != "", f"sent {sent or cli.stderr.strip()[-200:]}, received {got or '(nothing)'}"


GOODPUT_SERVER = r"""
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); buf = bytearray(1 << 20); n = 0; t0 = None
pattern = bytes(range(256)) * 4200; bad = 0  # what the client sends, byte i = i mod 256: every byte checked
while True:
    k = c.recv_into(buf)
    if not k: break
    if t0 is None: t0 = time.monotonic()
    if memoryview(buf)[:k] != memoryview(pattern)[n % 256:n % 256 + k]: bad += 1
    n += k
print(n if not bad else -1, time.monotonic() - t0)
"""

GOODPUT_CLIENT = r"""
import socket, sys, time
c = socket.socket(); c.bind((sys.argv[3], 0)); c.settimeout(60)
c.connect((sys.argv[1], int(sys.argv[2])))
chunk = memoryview(bytes(range(256)) * 4096); n = 0; end = time.monotonic() + float(sys.argv[4])
while time.monotonic() < end:
    c.sendall(chunk); n += len(chunk)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
print(n)
"""


def goodput(lab, src_side, dst_side, src_addr, dst_addr, seconds, port):
    """TCP for `seconds` from src_addr to dst_addr: (ok, Mbit/s at the receiver, text); ok
    when every byte sent arrived, in order and unchanged."""
    srv = subprocess.Popen(["ip", "netns", "exec", lab.ns[dst_side], sys.executable, "-c", GOODPUT_SERVER, dst_addr, str(port)],
                           text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.4)
    cli = subprocess.run(["ip", "netns", "exec", lab.ns[src_side], sys.executable, "-c", GOODPUT_CLIENT, dst_addr, str(port),
                          src_addr, str(seconds)], text=True, capture_output=True, timeout=seconds + 90)
    out, err = srv.communicate(timeout=seconds + 90)
    try:
        got, took = out.split()
        if int(got) < 0:
            return False, 0.0, "the received bytes differ from the ones sent"
        sent = int(cli.stdout.strip())
        mbit = int(got) * 8 / float(took) / 1e6
        return int(got) == sent, mbit, f"{mbit:.0f} Mbit/s ({int(got) >> 20} MiB in {float(took):.1f} s)"
    except ValueError:
        return False, 0.0, f"no transfer: {cli.stderr.strip()[-200:]} {err.strip()[-200:]}"


def ping(lab, side, src, dst, count=5):
    r = subprocess.run(["ip", "netns", "exec", lab.ns[side], "ping", "-c", str(count), "-i", "0.2", "-W", "2", "-I", src, dst],
                       text=True, capture_output=True)
    m = re.search(r"(\d+) received", r.stdout)
    return m is not None and int(m.group(1)) == count, (m.group(0) if m else r.stdout[-200:])


# ---- the checks ---------------------------------------------------------------------------

def passive_and_active(tool, tunnel, work, proposal, tag, results):
    lab = Lab(work, tag)
    try:
        if not lab.up(proposal):
            results.append((proposal, "establish", False, no_child_sa(work)))
            return
        cap = os.path.join(work, f"esp-{proposal}.pcap")
        inner = os.path.join(work, f"inner-{proposal}.pcap")
        lab.capture("A", "vA", cap, "udp port 4500")
        lab.capture("A", "ipsec0", inner, f"host {A_IN} and host {B_IN}")
        ok1, m1 = ping(lab, "A", A_IN, B_IN)
        ok2, m2 = tcp_transfer(lab, "A", "B", B_IN, 256 * 1024, work, 5001)
        lab.stop_captures()
        sas = child_sas(os.path.join(work, "A", "charon.log"))
        out = os.path.join(work, f"opened-{proposal}.pcap")
        rc, report = run_decrypt(tool, cap, xfrm_lines(proposal, sas), out, work)
        opened = pcap_packets(out) if rc == 0 else []
        seen = pcap_packets(inner)
        # what was sent: the TCP byte stream (its SHA-256) and the ICMP echoes, both ways
        with open(os.path.join(work, "blob-262144"), "rb") as f:
            blob = f.read()
        stream_ok = hashlib.sha256(tcp_stream(opened, 5001)).digest() == hashlib.sha256(blob).digest()
        echoes = icmp_echoes(opened)
        # and each packet ipsec0 carried was opened, byte for byte (tcpdump on a TUN may
        # drop some under load: those are counted, not compared)
        unopened = [p for p in seen if p not in set(opened)]
        n_esp = len(pcap_packets(cap))
        ok = rc == 0 and ok1 and ok2 and stream_ok and echoes == 10 and not unopened
        results.append((proposal, "passive", ok, f"{len(opened)} ESP packets opened (both directions) of {n_esp} captured on UDP 4500 "
                                                 f"(IKE included); the opened TCP stream {'equals' if stream_ok else 'DIFFERS from'} the "
                                                 f"{len(blob)} bytes sent (SHA-256), {echoes} ICMP echoes; every one of the {len(seen)} "
                                                 f"packets captured on ipsec0 was opened ({len(unopened)} not); ping {m1}"
                                                 + ("" if rc == 0 else "\n" + report)))
        # active: encap takes over B's side
        seq = highest_seq(report)
        lab.kill_charon("B")
        spi_in, spi_out, _ = sas[-1]
        lines = xfrm_lines(proposal, sas[-1:], {spi_in: f"replay-oseq {seq.get(spi_in, 0)}", spi_out: f"replay-seq {seq.get(spi_out, 0)}"})
        time.sleep(0.3)  # the TUN of the killed charon goes with it
        # peer-check: the inbound SAs are bound to strongSwan's address and port 4500
        tp, conf, log_path = start_tunnel(lab, "B", tunnel, work, proposal, lines, f"tunnel-{proposal}", "peer-check = yes\n")
        if tp is None:  # the tunnel refused its configuration: say why
            results.append((proposal, "active", False, "ipsec-tunnel exited: " + open(log_path).read()))
            return
        for _ in range(10):  # the tunnel is up when one ping passes
            if ping(lab, "A", A_IN, B_IN, 1)[0]:
                break
        ok3, m3 = ping(lab, "A", A_IN, B_IN)
        ok4, m4 = ping(lab, "B", B_IN, A_IN)
        # SIGHUP with one more SA line: the SAs that did not change keep their state (were
        # they rebuilt, the outbound sequence numbers would restart and strongSwan would
        # drop everything as replays)
        extra = lines[0].replace(f"spi 0x{spi_out}", "spi 0x0000beef").split(" replay-")[0] + " encap espinudp 4500 4500 0.0.0.0"
        with open(conf, "a") as f:
            f.write(extra + "\n")
        tp.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        ok5, m5 = tcp_transfer(lab, "A", "B", B_IN, 4 << 20, work, 5002)
        ok6, m6 = tcp_transfer(lab, "B", "A", A_IN, 4 << 20, work, 5003)
        tp.send_signal(signal.SIGTERM)
        tp.wait(timeout=10)
        tail = open(log_path).read()
        reloaded = "inbound SA 0x0000beef" in tail and "stopped after 1 reloads" in tail and "deleted" not in tail
        bound = f"inbound SA 0x{spi_out} " in tail and f"from {A_OUT}:4500" in tail
        ok_active = ok3 and ok4 and ok5 and ok6 and reloaded and bound
        m6 += f"; inbound SAs bound to {A_OUT}:4500 (peer-check)" if bound else "; inbound SAs NOT bound to the peer"
        m6 += "; SIGHUP added an SA, the others kept their state" if reloaded else "; SIGHUP reload NOT as expected"
        results.append((proposal, "active", ok_active,
                        f"strongSwan -> encap ping {m3}; encap -> strongSwan ping {m4}; 4 MiB strongSwan -> encap: {m5}; "
                        f"4 MiB encap -> strongSwan: {m6}" + ("" if ok_active else "\n" + tail)))
    finally:
        lab.down()


def rekey(tool, work, proposal, tag, results):
    lab = Lab(work, tag)
    try:
        if not lab.up(proposal, rekey_a="4s"):
            results.append((proposal, "rekey", False, no_child_sa(work)))
            return
        cap = os.path.join(work, "esp-rekey.pcap")
        lab.capture("A", "vA", cap, "udp port 4500")
        # about 12 s of traffic at 200 kB/s: three rekeys
        ok, m = tcp_transfer(lab, "A", "B", B_IN, 2400 * 1024, work, 5004, rate=200000)
        lab.stop_captures()
        sas = child_sas(os.path.join(work, "A", "charon.log"))
        rc, report = run_decrypt(tool, cap, xfrm_lines(proposal, sas), os.path.join(work, "opened-rekey.pcap"), work)
        used = [s for s, n in re.findall(r"SPI 0x([0-9a-f]{8}): (\d+) opened", report) if int(n) > 0]
        ok_all = ok and rc == 0 and len(sas) >= 3 and len(used) >= 6
        results.append((proposal, "rekey", ok_all, f"{len(sas)} CHILD_SAs ({len(sas) - 1} rekeys), packets opened on {len(used)} SPIs "
                                                   f"through one SA table, {opened_count(report)} packets; tcp {m}"
                                                   + ("" if rc == 0 else "\n" + report)))
    finally:
        lab.down()


def start_tunnel(lab, side, tunnel, work, proposal, lines, name, extra=""):
    """encap's ipsec-tunnel on `side` with the SA lines (and `extra` config lines), the
    route to the other inner address through it: (process or None if it exited on its
    config, config path, log path)."""
    lo, ro, li, ri = (A_OUT, B_OUT, A_IN, B_IN) if side == "A" else (B_OUT, A_OUT, B_IN, A_IN)
    conf, log_path = os.path.join(work, f"{name}.conf"), os.path.join(work, f"{name}.log")
    with open(conf, "w") as f:  # (the spec grammar takes strongSwan's suite names)
        f.write(f"tun = encap0\nstack = ipv4(src={lo},dst={ro})/udp(4500)/esp({proposal})/ipv4\nunderlay-mtu = 1500\n{extra}")
        f.write("\n".join(lines) + "\n")
    with open(log_path, "w") as log:
        p = subprocess.Popen(["ip", "netns", "exec", lab.ns[side], tunnel, conf], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(50):
        if "encap0" in lab.nsx(side, "ip link show", check=False) or p.poll() is not None:
            break
        time.sleep(0.1)
    if p.poll() is not None:
        return None, conf, log_path
    lab.nsx(side, f"ip route replace {ri}/32 dev encap0 src {li}")
    return p, conf, log_path


def throughput(tunnel, work, proposal, tag, seconds, results):
    lab = Lab(work, tag)
    tunnels = []
    try:
        if not lab.up(proposal):
            results.append((proposal, "throughput", False, no_child_sa(work)))
            return
        rows = []
        ok_bare, bare, m_bare = goodput(lab, "A", "B", A_OUT, B_OUT, seconds, 5101)
        rows.append(f"bare veth {m_bare}")
        ok_ss, ss, m_ss = goodput(lab, "A", "B", A_IN, B_IN, seconds, 5102)
        rows.append(f"strongSwan libipsec {m_ss}")
        sas = child_sas(os.path.join(work, "A", "charon.log"))
        lab.kill_charon("A")
        lab.kill_charon("B")
        time.sleep(0.3)  # their TUN devices and routes go with them
        lines = xfrm_lines(proposal, sas[-1:])
        for side in ("B", "A"):
            p, _, log_path = start_tunnel(lab, side, tunnel, work, proposal, lines, f"throughput-{side}")
            if p is None:
                results.append((proposal, "throughput", False, f"ipsec-tunnel exited on {side}: " + open(log_path).read()))
                return
            tunnels.append(p)
        for _ in range(10):
            if ping(lab, "A", A_IN, B_IN, 1)[0]:
                break
        ok_en, en, m_en = goodput(lab, "A", "B", A_IN, B_IN, seconds, 5103)
        rows.append(f"encap ipsec-tunnel {m_en}")
        ok = ok_bare and ok_ss and ok_en
        ratios = (f"; encap / bare veth {en / bare:.2f}, encap / strongSwan {en / ss:.1f}" if bare and ss else "")
        results.append((proposal, "throughput", ok, ", ".join(rows) + ratios))
    finally:
        for p in tunnels:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        lab.down()


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    tool, tunnel, work = sys.argv[1:4]
    seconds = None
    args = []
    for a in sys.argv[4:]:
        if a.startswith("--throughput"):
            seconds = float(a.split("=", 1)[1]) if "=" in a else 4.0
        else:
            args.append(a)
    suites = args or SUITES
    if os.geteuid() != 0:
        print("SKIPPED: the strongSwan lab needs root (network namespaces)")
        return 77
    for need in (CHARON, shutil.which("swanctl"), shutil.which("tcpdump"), shutil.which("ethtool")):
        if not need or not os.path.exists(need):
            print(f"SKIPPED: strongSwan or tcpdump is not installed ({need}): apt-get install strongswan-charon "
                  "strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins libstrongswan-extra-plugins tcpdump ethtool")
            return 77
    os.makedirs(work, exist_ok=True)
    print("strongSwan:", sh(f"{CHARON} --version", check=False).strip() or sh("swanctl --version", check=False).strip())
    results = []
    tag = str(os.getpid() % 10000)
    if seconds is not None:
        for i, s in enumerate(args or ["aes256gcm16", "aes256-sha1"]):
            throughput(tunnel, work, s, f"{tag}t{i}", seconds, results)
            r = results[-1]
            print(f"{'PASS' if r[2] else 'FAIL'} {r[0]:18} {r[1]:10} {r[3]}", flush=True)
        failed = [r for r in results if not r[2]]
        return 1 if failed else 0
    for i, s in enumerate(suites):
        passive_and_active(tool, tunnel, work, s, f"{tag}{i}", results)
        for r in results[-2:]:
            print(f"{'PASS' if r[2] else 'FAIL'} {r[0]:18} {r[1]:8} {r[3]}", flush=True)
    rekey(tool, work, "aes256gcm16", f"{tag}r", results)
    r = results[-1]
    print(f"{'PASS' if r[2] else 'FAIL'} {r[0]:18} {r[1]:8} {r[3]}", flush=True)
    failed = [r for r in results if not r[2]]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
