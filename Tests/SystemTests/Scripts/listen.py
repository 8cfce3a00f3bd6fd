#!/usr/bin/env python3
"""Test listener: accepts TCP connections and echoes UDP datagrams on the given ports.

Usage: listen.py ADDRESS PORT/tcp PORT/udp ...   (runs until killed, at most 300 s)
"""
import selectors, socket, sys, time

address = sys.argv[1]
sel = selectors.DefaultSelector()
for spec in sys.argv[2:]:
    port, proto = spec.split("/")
    if proto == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, int(port)))
        s.listen(64)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((address, int(port)))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, proto)
print("ready", flush=True)
deadline = time.time() + 300
while time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        try:
            if key.data == "tcp":
                conn, _ = s.accept()
                conn.sendall(b"hello\n")
                conn.close()
            else:
                data, peer = s.recvfrom(2048)
                s.sendto(data, peer)
        except OSError:
            pass
