#!/usr/bin/env python3
"""Test client: prints one verdict per port: open, closed or filtered.

Usage: reach.py [--source ADDR] HOST PORT/tcp PORT/udp ...
TCP: connect (open), refused (closed), timeout (filtered).
UDP: send a datagram and wait for the echo (open), an ICMP error (closed), or nothing (filtered).
"""
import socket, sys

args = sys.argv[1:]
source = None
if args[0] == "--source":
    source, args = args[1], args[2:]
host = args[0]
for spec in args[1:]:
    port, proto = spec.split("/")
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(0.7)
    if source:
        s.bind((source, 0))
    verdict = "filtered"
    try:
        if proto == "tcp":
            s.connect((host, int(port)))
            verdict = "open"
        else:
            s.connect((host, int(port)))
            s.send(b"knock")
            verdict = "open" if s.recv(64) == b"knock" else "wrong"
    except ConnectionRefusedError:
        verdict = "closed"
    except (socket.timeout, TimeoutError):
        verdict = "filtered"
    except OSError as error:
        verdict = "error:" + str(error.errno)
    finally:
        s.close()
    print(f"{spec} {verdict}", flush=True)
