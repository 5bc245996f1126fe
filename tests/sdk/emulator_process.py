"""The emulator binary as the Python SDK tests run it: started on a free port with a config,
ready once it prints its "listening on" line, stopped with SIGTERM.

The binary is $APIGW_EMULATOR, or ../../build/emulator/apigw-ws-emulator (relative to this file).
"""
import os
import re
import select
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.environ.get("APIGW_EMULATOR") or os.path.join(
    HERE, "..", "..", "build", "emulator", "apigw-ws-emulator")


class Emulator:
    def __init__(self, config, *extra_args):
        self.proc = subprocess.Popen(
            [EMULATOR, "--config", config, "--port", "0", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        m = re.search(rb"listening on ws://([^/\s]+):(\d+)/(\S+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("emulator did not start: %r %r" % (line, self.proc.stderr.read()))
        self.port = int(m.group(2))
        self.stage = m.group(3).decode()
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()
