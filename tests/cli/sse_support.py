"""A minimal server-sent-events client for the tests (text/event-stream over http.client):
frames are read from the socket as they arrive, with a timeout on each read."""
import http.client
import json
import time
import urllib.parse


class Stream:
    def __init__(self, base, last_event_id=None, headers=None, timeout=30):
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        h = dict(headers or {})
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/api/stream", headers=h)
        # Returns once the status line and headers arrived: the server has opened the stream
        # (its cursor is set) before it sends them.
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict(self.resp.getheaders())

    def frames(self, deadline_s=30):
        """Yields (id, event, data as JSON) for each frame; keepalive comments are skipped.
        Stops (StopIteration) when the server ends the stream; raises on timeout."""
        end = time.monotonic() + deadline_s
        fields = {}
        while time.monotonic() < end:
            line = self.resp.readline()  # de-chunked by http.client
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line == "":
                if "data" in fields:
                    yield int(fields["id"]), fields["event"], json.loads(fields["data"])
                fields = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(":")
                fields[k] = v[1:] if v.startswith(" ") else v
        raise AssertionError("no frame within %s s" % deadline_s)

    def take(self, n, deadline_s=30):
        out = []
        for f in self.frames(deadline_s):
            out.append(f)
            if len(out) == n:
                break
        return out

    def close(self):
        self.conn.close()
