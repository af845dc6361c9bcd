import json
import signal
import subprocess
import sys

import aiohttp

from adapters.jira.client import JiraClient


async def test_sandbox_prints_one_line_then_serves_until_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        jira = info["jira"]
        assert set(jira) == {"base_url", "email", "api_token", "webhook_secret"}
        async with aiohttp.ClientSession() as session:
            client = JiraClient.basic(jira["base_url"], jira["email"], jira["api_token"],
                                      session)
            assert {p["key"] for p in await client.projects()} == {"SUP", "ENG"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
