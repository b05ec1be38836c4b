#!/usr/bin/env python3
"""lpu serve end to end: the server on a loopback port, driven by the
official `openai` Python client and by raw HTTP.

    serve_e2e_test.py LPU_BINARY [unittest args]

The model is SmolLM2-135M-Instruct from the model cache ($LPU_MODEL_DIR or
~/.cache/lpu/models); without it the test is skipped (exit 77), except
under CI=true, where it fails.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import openai
from prometheus_client.parser import text_string_to_metric_families

LPU = None
MODEL = os.path.join(os.environ.get("LPU_MODEL_DIR", os.path.expanduser("~/.cache/lpu/models")),
                     "SmolLM2-135M-Instruct.Q4_1.gguf")
MODEL_ID = "SmolLM2-135M-Instruct.Q4_1"
STARTUP_SECONDS = 600  # a first compile of the Program (later starts load it from the cache)


class ServerProcess:
    """`lpu serve` on a free loopback port; stderr tells the port."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([LPU, "serve", MODEL, "--port", "0", *args], stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, text=True)
        self.log = []
        self.port = None
        deadline = time.time() + STARTUP_SECONDS
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("lpu serve did not start:\n" + "".join(self.log))
        # Keep draining stderr so the server never blocks on it.
        self.drain = threading.Thread(target=lambda: [self.log.append(l) for l in self.proc.stderr], daemon=True)
        self.drain.start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, api_key="none", **kw):
        return openai.OpenAI(base_url=self.base + "/v1", api_key=api_key, max_retries=0, timeout=120, **kw)

    def raw(self, method, path, body=None, headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        c.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        r = c.getresponse()
        payload = r.read()
        c.close()
        return r.status, payload

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def metric_values(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess("--slots", "4", "--max-queue", "256", "--ctx", "512")
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def complete(self, **kw):
        args = dict(model=MODEL_ID, prompt="The capital of France is", max_tokens=12, temperature=0.8, seed=5)
        args.update(kw)
        return self.client.completions.create(**args)

    def test_health_and_models(self):
        status, body = self.server.raw("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        models = self.client.models.list()
        self.assertEqual([m.id for m in models.data], [MODEL_ID])

    def test_completion_and_its_stream_agree(self):
        whole = self.complete()
        self.assertEqual(len(whole.choices), 1)
        self.assertIn(whole.choices[0].finish_reason, ("stop", "length"))
        self.assertGreater(whole.usage.prompt_tokens, 0)
        self.assertEqual(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens)
        chunks = list(self.complete(stream=True, stream_options={"include_usage": True}))
        text = "".join(c.choices[0].text for c in chunks if c.choices)
        self.assertEqual(text, whole.choices[0].text)
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        self.assertEqual(finishes, [whole.choices[0].finish_reason])
        self.assertIsNotNone(chunks[-1].usage)
        self.assertEqual(chunks[-1].usage.completion_tokens, whole.usage.completion_tokens)

    def test_chat_and_its_stream_agree(self):
        messages = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Name a colour."}]
        whole = self.client.chat.completions.create(model=MODEL_ID, messages=messages, max_tokens=16, seed=3,
                                                    temperature=0.7)
        self.assertEqual(whole.choices[0].message.role, "assistant")
        self.assertTrue(whole.choices[0].message.content)
        stream = self.client.chat.completions.create(model=MODEL_ID, messages=messages, max_tokens=16, seed=3,
                                                     temperature=0.7, stream=True)
        chunks = list(stream)
        self.assertEqual(chunks[0].choices[0].delta.role, "assistant")
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        self.assertEqual(text, whole.choices[0].message.content)
        self.assertEqual(chunks[-1].choices[0].finish_reason, whole.choices[0].finish_reason)

    def test_logprobs(self):
        r = self.complete(logprobs=2, max_tokens=5, temperature=0)
        lp = r.choices[0].logprobs
        self.assertEqual(len(lp.tokens), r.usage.completion_tokens)
        self.assertTrue(all(len(t) == 2 for t in lp.top_logprobs))
        self.assertTrue(all(x <= 0 for x in lp.token_logprobs))
        c = self.client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hi"}],
                                                max_tokens=4, logprobs=True, top_logprobs=3, temperature=0)
        content = c.choices[0].logprobs.content
        self.assertEqual(len(content), c.usage.completion_tokens)
        self.assertTrue(all(len(t.top_logprobs) == 3 for t in content))
        # Greedy: the chosen token is the most probable.
        self.assertTrue(all(abs(t.logprob - t.top_logprobs[0].logprob) < 1e-6 for t in content))

    def test_a_seed_gives_the_same_text_alone_and_under_load(self):
        alone = self.complete(max_tokens=20, seed=1234).choices[0].text
        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(self.complete, max_tokens=20, seed=1234 if i % 2 == 0 else i) for i in range(16)]
            results = [f.result() for f in futures]
        for i in range(0, 16, 2):
            self.assertEqual(results[i].choices[0].text, alone, f"client {i}")

    def test_load_200_requests_from_16_clients(self):
        prompts = [f"Story {i}: once upon a time" for i in range(200)]

        def one(i):
            stream = i % 2 == 0
            r = self.client.completions.create(model=MODEL_ID, prompt=prompts[i], max_tokens=8, seed=i,
                                               temperature=0.9, stream=stream,
                                               **({"stream_options": {"include_usage": True}} if stream else {}))
            if stream:
                chunks = list(r)
                finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
                return finish[-1] if finish else None, chunks[-1].usage.completion_tokens
            return r.choices[0].finish_reason, r.usage.completion_tokens

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(200)))
        self.assertEqual(len(results), 200)
        for i, (finish, n) in enumerate(results):
            self.assertIn(finish, ("stop", "length"), f"request {i}")
            self.assertTrue(1 <= n <= 8 or finish == "stop", f"request {i}: {n} tokens")

    def test_bad_input_gets_a_4xx_naming_the_field(self):
        cases = [
            ("/v1/completions", b"{not json", 400, None),
            ("/v1/completions", b"[1, 2]", 400, None),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "x", "max_tokens": "ten"}, 400, "max_tokens"),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "x", "max_tokens": -3}, 400, "max_tokens"),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "x", "temperature": 1e9}, 400, "temperature"),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "x", "top_p": "high"}, 400, "top_p"),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "x", "n": 2}, 400, "n"),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "x", "stop": [1]}, 400, "stop"),
            ("/v1/completions", {"model": MODEL_ID}, 400, "prompt"),
            ("/v1/completions", {"model": "gpt-unknown", "prompt": "x"}, 404, "model"),
            ("/v1/completions", {"model": MODEL_ID, "prompt": "word " * 2000}, 400, "prompt"),
            ("/v1/chat/completions", {"model": MODEL_ID, "messages": "hi"}, 400, "messages"),
            ("/v1/chat/completions", {"model": MODEL_ID, "messages": [{"role": "robot", "content": "x"}]}, 400,
             "messages[0].role"),
            ("/v1/chat/completions", {"model": MODEL_ID, "messages": [{"role": "user", "content": "x"}],
                                      "top_logprobs": 50, "logprobs": True}, 400, "top_logprobs"),
        ]
        for path, body, status, param in cases:
            got, payload = self.server.raw("POST", path, body)
            self.assertEqual(got, status, f"{body!r}: {payload!r}")
            err = json.loads(payload)["error"]
            self.assertTrue(err["message"])
            if param is not None:
                self.assertEqual(err["param"], param, f"{body!r}: {payload!r}")
        ctx = json.loads(self.server.raw("POST", "/v1/completions", {"model": MODEL_ID, "prompt": "word " * 2000})[1])
        self.assertEqual(ctx["error"]["code"], "context_length_exceeded")
        got, payload = self.server.raw("POST", "/v1/completions", b"x" * (2 << 20))
        self.assertEqual(got, 413)
        self.assertIn("error", json.loads(payload))
        got, payload = self.server.raw("GET", "/v1/nothing")
        self.assertEqual(got, 404)
        self.assertIn("error", json.loads(payload))
        got, payload = self.server.raw("GET", "/%FF%FE")  # not UTF-8 once decoded
        self.assertEqual(got, 404)
        self.assertIn("error", json.loads(payload))
        # The server still serves.
        self.assertEqual(self.complete(max_tokens=2).usage.completion_tokens, 2)

    def test_a_half_sent_request_is_dropped_in_bounded_time(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
        t0 = time.time()
        data = s.recv(4096)  # a 4xx or the connection closed
        elapsed = time.time() - t0
        s.close()
        self.assertLess(elapsed, 15)
        if data:
            self.assertRegex(data.split(b"\r\n")[0], rb"HTTP/1\.1 4\d\d")
        self.assertEqual(self.complete(max_tokens=1).usage.completion_tokens, 1)

    def test_metrics_parse(self):
        self.complete(max_tokens=3)
        status, body = self.server.raw("GET", "/metrics")
        self.assertEqual(status, 200)
        values = metric_values(body.decode())
        names = {name for name, _ in values}
        for want in ("lpu_requests_total", "lpu_prompt_tokens_total", "lpu_generated_tokens_total", "lpu_queue_depth",
                     "lpu_slots_busy", "lpu_time_to_first_token_seconds_bucket",
                     "lpu_inter_token_latency_seconds_bucket", "lpu_step_seconds_bucket"):
            self.assertIn(want, names)
        ok = values[("lpu_requests_total", (("endpoint", "/v1/completions"), ("status", "200")))]
        self.assertGreaterEqual(ok, 1)
        self.assertGreater(values[("lpu_generated_tokens_total", ())], 0)


class ServeLimitsTest(unittest.TestCase):
    """One slot and a queue of one: the third request gets 429, a client
    that leaves mid-stream frees the slot, and SIGTERM ends cleanly."""

    def test_queue_full_disconnect_and_shutdown(self):
        server = ServerProcess("--slots", "1", "--max-queue", "1", "--ctx", "512", "--api-key", "sesame",
                               "--shutdown-grace", "20")
        try:
            self.assertEqual(server.raw("POST", "/v1/completions", {"prompt": "x"})[0], 401)
            self.assertEqual(server.raw("POST", "/v1/completions", {"prompt": "x"},
                                        {"Authorization": "Bearer wrong"})[0], 401)
            client = server.client(api_key="sesame")
            # 480 tokens hold the one slot for seconds unless the stream is cancelled.
            long_stream = client.completions.create(model=MODEL_ID, prompt="Count:", max_tokens=480, stream=True,
                                                    temperature=0, extra_body={"ignore_eos": True})
            first = next(iter(long_stream))  # it holds the slot now
            self.assertTrue(first.choices)
            waiting = ThreadPoolExecutor(1).submit(
                lambda: client.completions.create(model=MODEL_ID, prompt="Hello", max_tokens=4, temperature=0))
            deadline = time.time() + 30
            while time.time() < deadline:
                health = json.loads(server.raw("GET", "/health")[1])
                if health["waiting"] == 1:
                    break
                time.sleep(0.02)
            with self.assertRaises(openai.RateLimitError):
                client.completions.create(model=MODEL_ID, prompt="Third", max_tokens=4)
            # The streaming client leaves: its slot goes to the waiting request.
            long_stream.response.close()
            t0 = time.time()
            done = waiting.result(timeout=60)
            self.assertEqual(done.usage.completion_tokens, 4)
            self.assertLess(time.time() - t0, 1.5)
            metrics = metric_values(server.raw("GET", "/metrics")[1].decode())
            self.assertGreaterEqual(
                metrics[("lpu_requests_total", (("endpoint", "/v1/completions"), ("status", "429")))], 1)
            # SIGTERM with a stream in flight: new requests get 503, the
            # stream finishes within the grace period with its [DONE], and
            # the server exits with status 0.
            stream = client.completions.create(model=MODEL_ID, prompt="Go", max_tokens=300, stream=True,
                                               temperature=0, stream_options={"include_usage": True},
                                               extra_body={"ignore_eos": True})
            chunks = [next(iter(stream))]
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            status, body = server.raw("POST", "/v1/completions", {"prompt": "late", "max_tokens": 2},
                                      {"Authorization": "Bearer sesame"})
            self.assertEqual(status, 503, body)
            chunks += list(stream)
            finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            self.assertEqual(finishes, ["length"])
            self.assertEqual(chunks[-1].usage.completion_tokens, 300)
            self.assertEqual(server.proc.wait(timeout=30), 0)
        finally:
            server.stop()


def main():
    global LPU
    LPU = sys.argv.pop(1)
    if not os.path.exists(MODEL):
        if os.environ.get("CI") == "true":
            print(f"SmolLM2 is missing at {MODEL} (required under CI=true)")
            return 1
        print(f"skipped: SmolLM2 is missing at {MODEL}")
        return 77
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
