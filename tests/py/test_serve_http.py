#!/usr/bin/python3
"""`gnnrec serve` over real sockets: the JSON schema and sources, a corpus of >= 100 bad requests
(after which normal requests still succeed), feedback durability across kill -9, concurrent
clients during hot reloads with zero failed requests, graceful shutdown with a request in flight,
and `promtool check metrics` on /metrics (when promtool is installed).

Runs with /usr/bin/python3 (stdlib + numpy for the fixture). Loopback only; every loop is bounded;
every server started here is killed on the way out. Env: GNNREC_BIN (the gnnrec binary).
"""
import http.client
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_fixture  # noqa: E402

BIN = os.environ.get("GNNREC_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bin", "gnnrec")
HOST = "127.0.0.1"
K_PRECOMPUTED = 20


class Server:
    """A `gnnrec serve` child on a free loopback port (--port 0; the port is read from stdout)."""

    def __init__(self, fx, *extra, feedback=None, ready=True):
        self.log_path = os.path.join(fx["root"], "server_%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "w")
        args = [BIN, "serve", "--model", fx["model_a"], "--recommendations", fx["recs_a"],
                "--port", "0", "--host", HOST, "--threads", "8", "--read-timeout", "1"]
        if feedback:
            args += ["--feedback-log", feedback, "--feedback-fsync-ms", "200"]
        self.proc = subprocess.Popen(args + list(extra), stdout=subprocess.PIPE, stderr=self.log)
        self.port = None
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                break
        if b"listening on http://" not in line:
            self.kill()
            raise AssertionError("server did not start: %r\n%s" % (line, self.read_log()))
        self.port = int(line.decode().rsplit(":", 1)[1])
        if ready:
            self.wait_ready()

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("server not ready:\n" + self.read_log())

    def request(self, method, path, body=None, headers=None, timeout=10):
        c = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), r
        finally:
            c.close()

    def get(self, path):
        return self.request("GET", path)

    def get_json(self, path, status=200):
        s, b, _ = self.get(path)
        assert s == status, "%s -> %d %r" % (path, s, b[:300])
        return json.loads(b)

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()
        self.log.close()


def raw(port, data, read_timeout=5.0, pause=None):
    """Sends raw bytes (optionally in two parts with a pause) and returns (status or None, body)."""
    s = socket.create_connection((HOST, port), timeout=read_timeout)
    try:
        if pause is None:
            s.sendall(data)
        else:
            s.sendall(data[0])
            time.sleep(pause)
            try:
                s.sendall(data[1])
            except OSError:
                pass
        chunks = []
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            chunks.append(b)
            resp = b"".join(chunks)
            head, sep, body = resp.partition(b"\r\n\r\n")
            if sep:
                cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if cl and len(body) >= int(cl[0].split(b":")[1]):
                    break
        resp = b"".join(chunks)
    finally:
        s.close()
    if not resp.startswith(b"HTTP/1.1 "):
        return None, resp
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(head[9:12]), body


def bad_request_corpus():
    """(description, raw request bytes, expected: 'json4xx' | '4xx_or_close')."""
    long_id = "a" * 257
    corpus = []

    def get(path, expect="json4xx"):
        corpus.append(("GET " + path[:60], ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                            % path).encode("latin-1"), expect))

    for k in ["0", "-1", "1001", "abc", "", "1.5", "1e3", "0x10", "+5", "%205", "5%20",
              "99999999999999999999", "%00", "10&k=20", "NaN", "inf", "%E2%82%AC", "1,2"]:
        get("/recommend/u/?k=" + k)
    for uid in ["..", ".", "a..b", "%2e%2e", "a%2Fb", "%2F", "a%5Cb", "%00", "a%20b", "%C3%A9",
                "%3Cscript%3E", "a'b", "a%22b", "a;b", "a%7Cb", "a*b", long_id, "b" * 1000,
                "%25", "a%0Ab", "%0D%0A", "~%2F..", "..%2F..%2Fetc%2Fpasswd", "a%09b", "(x)",
                "a!b", "%FF"]:
        get("/recommend/%s/" % uid)
        get("/history/%s/" % uid)
    for h in [",,", "..%2Fx", ",".join("i%d" % i for i in range(101)), "a%2Fb", "a%20b",
              "x," * 3]:
        get("/recommend/u/?history=" + h)
    for path in ["/recommendx/u", "/admin", "/admin/reload/x", "/metrics/x", "/../etc/passwd",
                 "/%2e%2e/", "/static/app.js", "/favicon.ico", "/.env", "/recommend",
                 "/users/x", "/history", "/HEALTHZ"]:
        get(path)
    for n in ["0", "-3", "x", "1001"]:
        get("/history/u/?n=" + n)
    for lim in ["0", "101", "many"]:
        get("/users/?limit=" + lim)
    for method, path in [("DELETE", "/recommend/u/"), ("PUT", "/feedback"), ("GET", "/feedback"),
                         ("GET", "/admin/reload"), ("PATCH", "/"), ("OPTIONS", "/metrics"),
                         ("POST", "/recommend/u/"), ("DELETE", "/admin/reload")]:
        corpus.append((method + " " + path, ("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                             "Connection: close\r\n\r\n" % (method, path)).encode(),
                       "json4xx"))

    def fb(body, expect="json4xx", desc=None, extra=b""):
        if isinstance(body, str):
            body = body.encode()
        corpus.append((desc or "feedback " + body[:40].decode("latin-1"),
                       b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Connection: close\r\n" + extra +
                       b"Content-Length: %d\r\n\r\n" % len(body) + body, expect))

    for body in ["", "{", "[]", "null", "1", '"s"', "{}", '{"user_id": "u"}',
                 '{"user_id": "u", "item_id": "i"}', '{"user_id": "u", "item_id": "i", "event": "view"}',
                 '{"user_id": "u", "item_id": "i", "event": 1}', '{"user_id": "u/x", "item_id": "i", "event": "click"}',
                 '{"user_id": "u", "item_id": "..", "event": "click"}', '{"user_id": [], "item_id": "i", "event": "click"}',
                 '{"user_id": "u", "item_id": "i", "event": "rating"}',
                 '{"user_id": "u", "item_id": "i", "event": "click", "value": "5"}',
                 '{"user_id": "u", "item_id": "i", "event": "click", "value": NaN}',
                 '{"user_id": "u", "item_id": "i", "event": "click"',
                 '{"user_id": "%s", "item_id": "i", "event": "click"}' % long_id,
                 '{"user_id": "u", "item_id": "i", "event": "click"} trailing',
                 "\xff\xfe{}", '{"user_id": "\\u0000", "item_id": "i", "event": "click"}']:
        fb(body)
    fb("[" * 30000 + "]" * 30000, desc="feedback nested 30000 deep")
    fb(b"x" * (70 * 1024), desc="feedback 70 KiB body")
    corpus.append(("feedback Content-Length 10^12",
                   b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n"
                   b"Connection: close\r\n\r\n{}", "4xx_or_close"))
    corpus.append(("feedback chunked 80 KiB",
                   b"POST /feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Connection: close\r\n\r\n" + (b"4000\r\n" + b"a" * 0x4000 + b"\r\n") * 5 +
                   b"0\r\n\r\n", "4xx_or_close"))
    corpus.append(("reload without a body length",
                   b"POST /admin/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   "4xx_or_close"))
    # Malformed HTTP: answered by the HTTP layer (4xx) or the connection is closed.
    for data in [b"HELLO\r\n\r\n", b"GET\r\n\r\n", b"GET /healthz\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nX-Big: " + b"h" * 10000 + b"\r\n\r\n",
                 b"GET /recommend/" + b"u" * 9000 + b"/ HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET /\x00 HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
                 b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n\r\n",
                 b"POST /feedback HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}"]:
        corpus.append(("malformed " + repr(data[:30]), data, "4xx_or_close"))
    return corpus


class ServeHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="gnnrec_serve_http_")
        cls.fx = serve_fixture.make(cls.root, users=120, items=300, dim=16, k=K_PRECOMPUTED)
        cls.fx["root"] = cls.root

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.kill()

    def start(self, *extra, **kw):
        s = Server(self.fx, *extra, **kw)
        self.servers.append(s)
        return s

    def test_schema_and_sources(self):
        s = self.start("--model-b", self.fx["model_b"], "--recommendations-b", self.fx["recs_b"],
                       "--split-b", "30")
        users = self.fx["user_ids"]
        variants = set()
        for uid in users[:40]:
            j = s.get_json("/recommend/%s/?k=5" % uid)
            for key, typ in [("user_id", str), ("variant", str), ("model", str), ("source", str),
                             ("items", list), ("k", int), ("known_user", bool)]:
                self.assertIsInstance(j[key], typ, key)
            self.assertEqual(j["user_id"], uid)
            self.assertEqual(j["source"], "precomputed")
            self.assertEqual(j["model"], "graphsage-a" if j["variant"] == "A" else "graphsage-b")
            variants.add(j["variant"])
            self.assertEqual(len(j["items"]), 5)
            for it in j["items"]:
                self.assertIsInstance(it["item_id"], str)
                self.assertIsInstance(it["title"], str)
                self.assertIsInstance(it["category"], str)
                self.assertTrue(it["price"] is None or isinstance(it["price"], (int, float)))
                self.assertIsInstance(it["score"], float)
            scores = [it["score"] for it in j["items"]]
            self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertEqual(variants, {"A", "B"})
        # live when k > precomputed K, and forced live agrees with precomputed
        uid = users[3]
        live = s.get_json("/recommend/%s/?k=%d" % (uid, K_PRECOMPUTED + 5))
        self.assertEqual(live["source"], "live")
        self.assertEqual(len(live["items"]), K_PRECOMPUTED + 5)
        pre = s.get_json("/recommend/%s/?k=10" % uid)
        forced = s.get_json("/recommend/%s/?k=10&source=live" % uid)
        self.assertEqual({i["item_id"] for i in pre["items"]}, {i["item_id"] for i in forced["items"]})
        for a, b in zip(pre["items"], forced["items"]):
            self.assertAlmostEqual(a["score"], b["score"], places=5)
        hist = s.get_json("/history/%s/?n=1000" % uid)
        seen = {i["item_id"] for i in hist["items"]}
        self.assertEqual(len(seen), hist["interactions"])
        self.assertFalse(seen & {i["item_id"] for i in live["items"]}, "training item recommended")
        # cold start
        cold = s.get_json("/recommend/new-visitor-1/?k=7")
        self.assertEqual((cold["source"], cold["strategy"], cold["known_user"]),
                         ("cold_start", "popular", False))
        degs = [i["score"] for i in cold["items"]]
        self.assertEqual(degs, sorted(degs, reverse=True))
        h = ",".join(self.fx["item_ids"][:3])
        cold = s.get_json("/recommend/new-visitor-2/?k=7&history=" + h)
        self.assertEqual(cold["strategy"], "history")
        self.assertFalse(set(self.fx["item_ids"][:3]) & {i["item_id"] for i in cold["items"]})
        # page, health
        st, body, r = s.get("/")
        self.assertEqual(st, 200)
        self.assertIn(b"Recommended for You", body)
        self.assertTrue(r.getheader("Content-Type").startswith("text/html"))
        self.assertEqual(s.get_json("/healthz")["status"], "ok")
        self.assertEqual(s.get_json("/readyz")["generation"], 1)
        self.assertEqual(len(s.get_json("/users/?limit=10")["users"]), 10)

    def test_bad_requests_then_normal_requests_succeed(self):
        s = self.start()
        corpus = bad_request_corpus()
        self.assertGreaterEqual(len(corpus), 100)
        failures = []
        for desc, data, expect in corpus:
            status, body = raw(s.port, data)
            if expect == "json4xx":
                ok = status is not None and 400 <= status < 500
                try:
                    j = json.loads(body)
                    ok = ok and isinstance(j.get("error"), str) and isinstance(j.get("detail"), str)
                except ValueError:
                    ok = False
            else:
                ok = status is None or 400 <= status < 500
                if status is not None:
                    try:
                        ok = ok and "error" in json.loads(body)
                    except ValueError:
                        ok = False
            if not ok:
                failures.append("%s -> %s %r" % (desc, status, body[:120]))
            self.assertIsNone(s.proc.poll(), "server died on: " + desc)
        self.assertEqual(failures, [], "\n".join(failures))
        # A slow client (headers never finished) is dropped after the read timeout (1 s here).
        t0 = time.monotonic()
        status, body = raw(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", read_timeout=6)
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertTrue(status is None or 400 <= status < 500)
        # A slow body: the server answers 4xx or closes, and keeps serving.
        status, _ = raw(s.port, (b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{",
                                 b""), read_timeout=6, pause=0.1)
        self.assertTrue(status is None or 400 <= status < 500)
        # Still serving normally.
        for uid in self.fx["user_ids"][:20]:
            self.assertEqual(s.get_json("/recommend/%s/?k=3" % uid)["source"], "precomputed")
        self.assertIsNone(s.proc.poll())
        metrics = s.get("/metrics")[1].decode()
        self.assertIn('route="/recommend/{user_id}",method="GET",status="400"', metrics)

    def test_feedback_survives_kill_9(self):
        log = os.path.join(self.root, "feedback_kill9.jsonl")
        s = self.start("--model-b", self.fx["model_b"], feedback=log)
        users, items = self.fx["user_ids"], self.fx["item_ids"]
        sent = []
        for i in range(60):
            ev = ["impression", "impression", "click", "purchase", "rating"][i % 5]
            body = {"user_id": users[i % len(users)], "item_id": items[i], "event": ev}
            if ev == "rating":
                body["value"] = 4
            st, b, _ = s.request("POST", "/feedback", json.dumps(body),
                                 {"Content-Type": "application/json"})
            self.assertEqual(st, 202, b)
            sent.append(body)
        time.sleep(0.5)  # > --feedback-fsync-ms 200: the events are fsync'd too
        s.kill(signal.SIGKILL)
        with open(log) as f:
            lines = [json.loads(l) for l in f]
        self.assertEqual(len(lines), len(sent))
        for want, got in zip(sent, lines):
            for k in ("user_id", "item_id", "event"):
                self.assertEqual(got[k], want[k])
            self.assertIn(got["variant"], ("A", "B"))
            self.assertIn("ts", got)
        # ab-report reads it
        out = subprocess.run([BIN, "ab-report", log, "--json"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        rep = json.loads(out.stdout)
        total = sum(v["impressions"] for v in rep["variants"].values())
        self.assertEqual(total, 24)

    def test_concurrent_clients_during_reloads(self):
        s = self.start()
        users = self.fx["user_ids"] + ["cold-%d" % i for i in range(10)]
        stop = threading.Event()
        stats = {"ok": 0, "fail": []}
        lock = threading.Lock()

        def client(seed):
            rnd = random.Random(seed)
            conn = http.client.HTTPConnection(HOST, s.port, timeout=10)
            n = 0
            while not stop.is_set() and n < 5000:
                n += 1
                path = "/recommend/%s/?k=%d" % (rnd.choice(users), rnd.randint(1, 30))
                try:
                    conn.request("GET", path)
                    r = conn.getresponse()
                    body = r.read()
                    ok = r.status == 200 and len(json.loads(body)["items"]) > 0
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = http.client.HTTPConnection(HOST, s.port, timeout=10)
                except Exception as e:  # noqa: BLE001 - any failure counts
                    ok, body = False, repr(e).encode()
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, s.port, timeout=10)
                with lock:
                    if ok:
                        stats["ok"] += 1
                    else:
                        stats["fail"].append((path, body[:200]))
            conn.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        try:
            model_dir = self.fx["model_a"]
            b_dir = self.fx["model_b"]
            for gen in range(2, 6):
                time.sleep(0.3)
                # Swap in other embeddings (atomic renames), then reload; the 4th time by SIGHUP.
                src = b_dir if gen % 2 == 0 else self.fx["model_a"] + "_orig"
                if gen == 2:
                    shutil.copytree(model_dir, model_dir + "_orig")
                for name in ("user_emb.npy", "item_emb.npy"):
                    shutil.copy(os.path.join(src, name), os.path.join(model_dir, name + ".tmp"))
                    os.replace(os.path.join(model_dir, name + ".tmp"), os.path.join(model_dir, name))
                if gen == 5:
                    s.proc.send_signal(signal.SIGHUP)
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline and s.get_json("/readyz")["generation"] < 5:
                        time.sleep(0.05)
                else:
                    st, b, _ = s.request("POST", "/admin/reload", b"")
                    self.assertEqual(st, 200, b)
                    self.assertEqual(json.loads(b)["generation"], gen)
                self.assertEqual(s.get_json("/readyz")["generation"], gen)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            if os.path.isdir(self.fx["model_a"] + "_orig"):
                for name in ("user_emb.npy", "item_emb.npy"):
                    shutil.copy(os.path.join(self.fx["model_a"] + "_orig", name),
                                os.path.join(self.fx["model_a"], name))
                shutil.rmtree(self.fx["model_a"] + "_orig")
        self.assertEqual(stats["fail"], [])
        self.assertGreater(stats["ok"], 100)
        m = s.get("/metrics")[1].decode()
        self.assertIn('gnnrec_model_reloads_total{result="ok"} 4', m)

    def test_metrics_promtool(self):
        s = self.start(feedback=os.path.join(self.root, "fb_metrics.jsonl"))
        s.get("/recommend/%s/?k=3" % self.fx["user_ids"][0])
        s.get("/recommend/nobody/?k=30")
        s.get("/recommend/%s/?k=50" % self.fx["user_ids"][1])
        s.get("/nope")
        s.request("POST", "/feedback", json.dumps({"user_id": "u", "item_id": "i", "event": "click"}))
        st, body, r = s.get("/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        text = body.decode()
        for name in ["gnnrec_http_requests_total", "gnnrec_http_request_duration_seconds_bucket",
                     "gnnrec_recommendations_served_total", "gnnrec_model_info",
                     "gnnrec_model_loaded_timestamp_seconds", "gnnrec_feedback_events_total"]:
            self.assertIn(name, text)
        self.assertIn('gnnrec_recommendations_served_total{variant="A",source="cold_start"} 1', text)
        self.assertIn('gnnrec_feedback_events_total{event="click",variant="A"} 1', text)
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not installed (Debian package prometheus)")
        out = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_graceful_shutdown_finishes_in_flight_request(self):
        s = self.start()
        conn = socket.create_connection((HOST, s.port), timeout=10)
        try:
            conn.sendall(b"GET /recommend/%s/?k=3 HTTP/1.1\r\nHost: x\r\n" %
                         self.fx["user_ids"][0].encode())
            time.sleep(0.2)  # the request is being read by a worker
            s.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            conn.sendall(b"Connection: close\r\n\r\n")
            data = b""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                b = conn.recv(65536)
                if not b:
                    break
                data += b
        finally:
            conn.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:200])
        self.assertEqual(s.proc.wait(10), 0)
        with self.assertRaises(OSError):
            socket.create_connection((HOST, s.port), timeout=2).close()

    def test_failed_first_load_exits_nonzero(self):
        bad = os.path.join(self.root, "empty_model")
        os.makedirs(bad, exist_ok=True)
        out = subprocess.run([BIN, "serve", "--model", bad, "--port", "0"], capture_output=True,
                             text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("embeddings.json", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
