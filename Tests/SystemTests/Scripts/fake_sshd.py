#!/usr/bin/env python3
"""A stand-in SSH server for the SSH-guard tests: renames its process (comm) to NAME with
prctl(PR_SET_NAME), listens on PORT/tcp and echoes each connection's lines, for at most 120 s.
Run it from a copy of the python binary named `sshd`: the guard must know it by its executable.

Usage: fake_sshd.py NAME PORT
"""
import ctypes, selectors, socket, sys, time

name, port = sys.argv[1], int(sys.argv[2])
ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", port))
server.listen(8)
server.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(server, selectors.EVENT_READ)
print("ready", flush=True)
deadline = time.time() + 120
while time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        if key.fileobj is server:
            conn, _ = server.accept()
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
        else:
            data = key.fileobj.recv(4096)
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
            else:
                key.fileobj.sendall(b"echo " + data)
