#!/usr/bin/python3
"""Interop with scapy's independent ESP (scapy.layers.ipsec, on python3-cryptography):
scapy decrypts what encap built, and encap decapsulates what scapy built, for AES-GCM,
AES-CBC + HMAC, AES-CTR, AES-CCM, ChaCha20-Poly1305, NULL + HMAC and CBC + CMAC, in
tunnel mode (IPv4 inner) and transport mode (GRE), with and without ESN and NAT-T.

Limits of scapy 2.5 (Debian 12), worked around here:
- its ESP sign()/verify() ignore ESN for separate integrity algorithms (only AH appends
  the high sequence bits; scapy/layers/ipsec.py AuthAlgo.sign). For those suites with ESN
  this script computes the ICV itself, as RFC 4303 §3.3.2.1 says (HMAC/CMAC over SPI ..
  ciphertext followed by the high 32 bits), with Python's hmac and cryptography's CMAC;
  scapy still does the decryption and encryption. (Wireshark 4.0 has no ESN support and
  this machine's kernel has no xfrm algorithms, so this is the independent check.);
- with nat_t_header it rebuilds the IP header before attaching ESP, leaving the UDP length
  at 8; the length is repaired before encap reads the packet;
- python3-cryptography's AESGCM takes 16-byte tags only, so GCM-8/12 are left to tshark.

    scapy_interop.py path/to/interop WORKDIR [botan|ipsec_mb]
Exit 77 (skipped) when scapy or cryptography is missing.
"""
import os
import subprocess
import sys

try:
    from scapy.all import IP, UDP, GRE, ICMP, Raw, wrpcap, rdpcap, raw
    from scapy.layers.ipsec import SecurityAssociation, ESP
    import cryptography  # noqa: F401
except ImportError as e:
    print(f"SKIP: scapy or python3-cryptography not installed ({e}); apt-get install python3-scapy python3-cryptography")
    sys.exit(77)

helper, work = sys.argv[1], sys.argv[2]
backend = sys.argv[3] if len(sys.argv) > 3 else "botan"
os.makedirs(work, exist_ok=True)

# encap suite name -> (scapy crypt_algo, key size, salt size, icv size or None, scapy auth_algo, auth key size)
SUITES = {
    "aes-128-gcm-16": ("AES-GCM", 16, 4, 16, None, 0),
    "aes-256-gcm-16": ("AES-GCM", 32, 4, 16, None, 0),
    "aes-192-gcm-16": ("AES-GCM", 24, 4, 16, None, 0),  # RFC 4106 allows AES-192; the hardening issue added it
    "aes-128-cbc,hmac-sha1-96": ("AES-CBC", 16, 0, None, "HMAC-SHA1-96", 20),
    "aes-256-cbc,hmac-sha256-128": ("AES-CBC", 32, 0, None, "SHA2-256-128", 32),
    "aes-192-cbc,hmac-sha384-192": ("AES-CBC", 24, 0, None, "SHA2-384-192", 48),
    "aes-128-cbc,aes-cmac-96": ("AES-CBC", 16, 0, None, "AES-CMAC-96", 16),
    "aes-128-ctr,hmac-sha1-96": ("AES-CTR", 16, 4, None, "HMAC-SHA1-96", 20),
    "aes-256-ctr,hmac-sha512-256": ("AES-CTR", 32, 4, None, "SHA2-512-256", 64),
    "aes-128-ccm-16": ("AES-CCM", 16, 3, 16, None, 0),
    "aes-256-ccm-16": ("AES-CCM", 32, 3, 16, None, 0),
    "chacha20-poly1305": ("CHACHA20-POLY1305", 32, 4, 16, None, 0),
    "null,hmac-sha256-128": ("NULL", 0, 0, None, "SHA2-256-128", 32),
}

cases = []
spi = 0x2000
for name, (calgo, klen, slen, icv, aalgo, alen) in SUITES.items():
    for mode in ("tunnel", "transport"):
        for esn in (0, 1):
            for natt in (0, 1):
                spi += 1
                ek = bytes((spi * 13 + i * 5) & 0xFF for i in range(klen + slen))
                ak = bytes((spi * 17 + i * 3) & 0xFF for i in range(alen))
                seq = (1 << 32) + 5 if esn else 7          # with ESN: a non-zero high half
                ping = IP(src="192.168.1.10", dst="192.168.2.20", id=spi & 0xFFFF, flags="DF") / ICMP(id=7, seq=spi & 0xFFFF) / Raw(b"encap-interop-" + bytes(range(40 + spi % 17)))
                inner = raw(ping)
                cases.append(dict(spi=spi, name=name, calgo=calgo, ek=ek, icv=icv, aalgo=aalgo, ak=ak, mode=mode,
                                  esn=esn, natt=natt, seq=seq, inner=inner))


def esn_icv(c, esp_wo_icv):
    """RFC 4303 §3.3.2.1: the ICV over the ESP packet followed by the ESN's high half."""
    import hashlib
    import hmac
    data = esp_wo_icv + (c["seq"] >> 32).to_bytes(4, "big")
    if c["aalgo"] == "AES-CMAC-96":
        from cryptography.hazmat.primitives.cmac import CMAC
        from cryptography.hazmat.primitives.ciphers import algorithms
        m = CMAC(algorithms.AES(c["ak"]))
        m.update(data)
        return m.finalize()[:12]
    digest, n = {"HMAC-SHA1-96": (hashlib.sha1, 12), "SHA2-256-128": (hashlib.sha256, 16),
                 "SHA2-384-192": (hashlib.sha384, 24), "SHA2-512-256": (hashlib.sha512, 32)}[c["aalgo"]]
    return hmac.new(c["ak"], data, digest).digest()[:n]


def icv_len(c):
    return {"HMAC-SHA1-96": 12, "SHA2-256-128": 16, "SHA2-384-192": 24, "SHA2-512-256": 32, "AES-CMAC-96": 12}[c["aalgo"]]


def manifest(path):
    with open(path, "w") as f:
        for c in cases:
            f.write(f"{c['spi']} {c['name']} {c['mode']} {c['esn']} {c['natt']} {c['seq']} {c['ek'].hex() or '-'} "
                    f"{c['ak'].hex() or '-'} {c['inner'].hex()}\n")


def sa_for(c):
    kw = dict(spi=c["spi"], crypt_algo=c["calgo"], crypt_key=c["ek"] if c["ek"] else None,
              esn_en=bool(c["esn"]), esn=c["seq"] >> 32)
    if c["icv"] and c["icv"] != 16:
        kw["crypt_icv_size"] = c["icv"]
    if c["aalgo"]:
        kw.update(auth_algo=c["aalgo"], auth_key=c["ak"])
    if c["mode"] == "tunnel":
        kw["tunnel_header"] = IP(src="100.1.1.1", dst="100.3.3.3")
    if c["natt"]:
        kw["nat_t_header"] = UDP(sport=4500, dport=4500)
    return SecurityAssociation(ESP, **kw)


failures = 0
man = os.path.join(work, "manifest.txt")
manifest(man)

# (1) encap builds, scapy decrypts and authenticates
out = os.path.join(work, "encap.pcap")
r = subprocess.run([helper, "encap", man, out, backend])
if r.returncode != 0:
    failures += 1
esn_checked = 0
for c, pkt in zip(cases, rdpcap(out)):
    pkt = IP(raw(pkt))
    verify = True
    if c["esn"] and c["aalgo"]:  # check the ESN ICV here, then let scapy decrypt without verifying
        wire = raw(pkt)
        esp_at = 28 if c["natt"] else 20
        n = icv_len(c)
        if esn_icv(c, wire[esp_at:-n]) != wire[-n:]:
            print(f"ESN ICV differs from RFC 4303 §3.3.2.1: spi {c['spi']:#x} {c['name']}")
            failures += 1
            continue
        esn_checked += 1
        verify = False
    try:
        dec = sa_for(c).decrypt(pkt, verify=verify, esn_en=bool(c["esn"]), esn=c["seq"] >> 32)
    except Exception as e:  # scapy raises IPSecIntegrityError on a bad ICV
        print(f"scapy could not decrypt spi {c['spi']:#x} {c['name']} {c['mode']} esn={c['esn']} natt={c['natt']}: {e!r}")
        failures += 1
        continue
    got = raw(dec) if c["mode"] == "tunnel" else raw(dec[GRE].payload)
    if got != c["inner"]:
        print(f"inner packet differs: spi {c['spi']:#x} {c['name']} {c['mode']}")
        failures += 1
print(f"scapy decrypted {len(cases)} packets built by encap ({esn_checked} ESN ICVs checked by hmac/CMAC here)")

# (2) scapy builds, encap decapsulates
built = []
for c in cases:
    sa = sa_for(c)
    if c["mode"] == "tunnel":
        plain = IP(c["inner"])
    else:
        plain = IP(src="100.1.1.1", dst="100.3.3.3") / GRE() / IP(c["inner"])
    pkt = sa.encrypt(plain, seq_num=c["seq"] & 0xFFFFFFFF, esn_en=bool(c["esn"]), esn=c["seq"] >> 32)
    if c["natt"]:  # scapy 2.5 leaves the NAT-T UDP length at 8: recompute it
        pkt = IP(raw(pkt))
        pkt[UDP].len = len(pkt[UDP])
    if c["esn"] and c["aalgo"]:  # replace scapy's ICV (computed without ESN) by the RFC one
        wire = bytearray(raw(pkt))
        esp_at = 28 if c["natt"] else 20
        n = icv_len(c)
        wire[-n:] = esn_icv(c, bytes(wire[esp_at:-n]))
        pkt = IP(bytes(wire))
    built.append(pkt)
inp = os.path.join(work, "scapy.pcap")
wrpcap(inp, built)
r = subprocess.run([helper, "decap", man, inp, backend])
if r.returncode != 0:
    failures += 1

print(f"{len(cases) * 2 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
