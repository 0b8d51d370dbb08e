"""docker-py as its users write it: `docker.from_env()` reads DOCKER_HOST, here the ssh:// endpoint
of a docker context, then `version()`. With --use-ssh-client, `from_env(use_ssh_client=True)`
(docker-py runs the system ssh instead of paramiko). Prints one line of JSON:
{"ok": true, "server_version": "…"} or {"ok": false, "error": "<Type>: <the library's message>"},
and exits 0 once it could say which; after 20 s it reports a timeout. Run by tests/e2e/clients.rs with
the venv's python (target/clients/venv, scripts/clients.sh)."""

import json
import signal
import sys


def say(result):
    print(json.dumps(result), flush=True)
    sys.exit(0)


def timeout(_signum, _frame):
    say({"ok": False, "error": "no answer within 20 s"})


signal.signal(signal.SIGALRM, timeout)
signal.alarm(20)
try:
    import docker

    client = docker.from_env(timeout=20, use_ssh_client="--use-ssh-client" in sys.argv[1:])
    say({"ok": True, "server_version": client.version()["Version"]})
except Exception as e:  # the library's own error, whatever its type
    say({"ok": False, "error": f"{type(e).__name__}: {e}"})
