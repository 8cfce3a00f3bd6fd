#!/usr/bin/python3
# The peer for bench/media.sh: GStreamer's RTSP server (gst-rtsp-server, through PyGObject)
# serving the same stream streamd serves, a live 1 kHz tone as PCMU at 8 kHz in 20 ms packets,
# one shared pipeline for every client. Run with Debian's python3 (apt install python3-gi
# gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good).
#   bench/gst-rtsp-peer.py PORT   serves rtsp://127.0.0.1:PORT/test until killed
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1"); server.set_service(sys.argv[1] if len(sys.argv) > 1 else "8554")
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch("( audiotestsrc is-live=true freq=1000 samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay0 pt=0 min-ptime=20000000 max-ptime=20000000 )")
factory.set_shared(True)
server.get_mount_points().add_factory("/test", factory)
server.attach(None)
print("serving", flush=True)
GLib.MainLoop().run()
