#!/usr/bin/env python3
"""Test client for streamd's UDP knock: prints PORT valid|invalid|silence for each port.

Usage: knock.py KEY HOST PORT ...
"""
import hashlib, hmac, os, socket, sys

key, host = sys.argv[1].encode(), sys.argv[2]
for port in map(int, sys.argv[3:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    nonce = os.urandom(16)
    request = b"PCK1\x01\x00" + port.to_bytes(2, "big") + nonce + bytes(32)
    s.sendto(request, (host, port))
    try:
        reply, peer = s.recvfrom(200)
        good = (len(reply) == 56 and len(reply) <= len(request) and reply[:8] == b"PCK1\x02\x00" + port.to_bytes(2, "big")
                and reply[8:24] == nonce and peer[1] == port
                and hmac.compare_digest(reply[24:], hmac.new(key, reply[:24], hashlib.sha256).digest()))
        print(port, "valid" if good else "invalid", flush=True)
    except socket.timeout:
        print(port, "silence", flush=True)
