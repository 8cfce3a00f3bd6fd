#!/usr/bin/env python3
"""Test client: RTMP handshake then connect; prints 'S0=3 S1=1536 result' on success.

Usage: rtmp_connect.py HOST PORT
"""
import os, socket, struct, sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=3)
c1 = os.urandom(1536)
s.sendall(b"\x03" + c1)
data = b""
while len(data) < 1 + 1536 + 1536:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
s0, s1, s2 = data[0], data[1:1537], data[1537:3073]
s.sendall(s1)  # C2 echoes S1
def amf_string(text):
    raw = text.encode()
    return b"\x02" + struct.pack(">H", len(raw)) + raw
payload = amf_string("connect") + b"\x00" + struct.pack(">d", 1.0) + b"\x03" + struct.pack(">H", 3) + b"app" + amf_string("live") + b"\x00\x00\x09"
header = bytes([0x03, 0, 0, 0]) + len(payload).to_bytes(3, "big") + b"\x14" + b"\x00\x00\x00\x00"
s.sendall(header + payload)
reply = b""
try:
    while b"NetConnection.Connect.Success" not in reply:
        chunk = s.recv(65536)
        if not chunk: break
        reply += chunk
except socket.timeout:
    pass
print(f"S0={s0} S1={len(s1)} S2echo={'yes' if s2 == c1 else 'no'} {'result' if b'_result' in reply and b'NetConnection.Connect.Success' in reply else 'no-result'}")
