#!/usr/bin/env python3
"""Sends well-formed knock requests from a forged IPv4 source, with a raw socket (needs root).

Usage: forge_knock.py SOURCE SOURCE_PORT DESTINATION PORT ...

Each datagram is a valid knock (random nonce), so streamd tries to answer it, and its reply cannot
be sent: a source port 0 is EINVAL, a broadcast source EACCES, an unroutable one ENETUNREACH.
Prints the number of datagrams sent.
"""
import os, socket, struct, sys

source, source_port, destination = sys.argv[1], int(sys.argv[2]), sys.argv[3]
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
sent = 0
for port in map(int, sys.argv[4:]):
    knock = b"PCK1\x01\x00" + port.to_bytes(2, "big") + os.urandom(16) + bytes(32)
    # UDP checksum 0: none, as IPv4 allows. The kernel fills in the IP checksum, id and length.
    udp = struct.pack("!HHHH", source_port, port, 8 + len(knock), 0) + knock
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(source), socket.inet_aton(destination))
    raw.sendto(ip + udp, (destination, 0))
    sent += 1
print(sent, flush=True)
