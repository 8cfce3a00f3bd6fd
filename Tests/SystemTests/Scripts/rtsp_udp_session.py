#!/usr/bin/env python3
"""Plays streamd's test stream over RTSP/UDP from a given local address, and holds the session.

Usage: rtsp_udp_session.py LOCAL_ADDRESS SERVER RTSP_PORT CLIENT_RTP_PORT HOLD_SECONDS

SETUP and PLAY on rtsp://SERVER:RTSP_PORT/test, from LOCAL_ADDRESS, with RTP to CLIENT_RTP_PORT;
prints "playing" once the first RTP packet arrives, then keeps the RTSP connection (and so the
session) open for HOLD_SECONDS, and prints how many RTP packets arrived in all.
"""
import socket, sys, time

local, server, port, rtp_port, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rtp.bind((local, rtp_port))
rtp.settimeout(3)
control = socket.create_connection((server, port), timeout=3, source_address=(local, 0))

def request(text):
    control.sendall(text.encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = control.recv(4096)
        if not chunk:
            sys.exit("connection closed")
        reply += chunk
    return reply.decode()

url = f"rtsp://{server}:{port}/test"
setup = request(f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port={rtp_port}-{rtp_port + 1}\r\n\r\n")
session = next(line.split(":", 1)[1].strip().split(";")[0] for line in setup.split("\r\n") if line.lower().startswith("session:"))
request(f"PLAY {url}/ RTSP/1.0\r\nCSeq: 2\r\nSession: {session}\r\n\r\n")
rtp.recv(2048)
print("playing", flush=True)
packets = 1
deadline = time.time() + hold
rtp.settimeout(0.2)
while time.time() < deadline:
    try:
        rtp.recv(2048)
        packets += 1
    except socket.timeout:
        pass
print("packets", packets, flush=True)
