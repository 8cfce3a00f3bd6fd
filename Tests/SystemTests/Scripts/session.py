#!/usr/bin/env python3
"""An established TCP session that must survive a firewall change: connects to HOST PORT, says
"connected", waits WAIT seconds, then sends "ping" and prints the reply (or "lost"), bounded.

Usage: session.py HOST PORT WAIT
"""
import socket, sys, time

host, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
conn = socket.create_connection((host, port), timeout=5)
print("connected", flush=True)
time.sleep(wait)
conn.settimeout(5)
try:
    conn.sendall(b"ping\n")
    print("reply", conn.recv(100).decode().strip(), flush=True)
except OSError as error:
    print("lost", error, flush=True)
