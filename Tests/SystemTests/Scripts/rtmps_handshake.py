#!/usr/bin/env python3
"""Test client: RTMP handshake over TLS (no certificate check); prints TLS version, S0, S1 size, S2 echo.

Usage: rtmps_handshake.py HOST PORT
"""
import socket, ssl, os, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3), server_hostname='localhost')
c1 = os.urandom(1536); s.sendall(b'\x03' + c1)
data = b''
while len(data) < 3073:
    d = s.recv(65536)
    if not d: break
    data += d
print(s.version(), 'S0', data[0], 'S1', len(data[1:1537]), 'S2echo', data[1537:3073] == c1)
