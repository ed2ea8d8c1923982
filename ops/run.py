"""`make run`: Django's development server and the outbox worker, started and stopped together.

    python -m ops.run [ADDRESS:PORT]        # default 127.0.0.1:8000; DEBUG=1 is set for both

Mail leaves only through the worker (requests just queue it), so trying the API without one
would queue mail forever. Under DEBUG the worker "sends" with the console backend: the mails
appear in this terminal. Ctrl-C (SIGINT) or SIGTERM stops both; if either exits, the other is
stopped and the launcher exits with its status.

The supervision is ops.serve's (one launcher for the project's process trees), with one
difference: runserver's autoreloader runs the server in a child of its own, so it is stopped
the way a terminal would stop it, with SIGINT to its whole process group.
"""

import os
import signal
import sys

from ops.serve import Child, supervise

DEFAULT_ADDRESS = "127.0.0.1:8000"


class ProcessGroupChild(Child):
    def send(self, signum: int) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signum)  # its own group (Child starts it as the leader)
            except ProcessLookupError:
                pass


def main(argv: list[str]) -> int:
    address = argv[0] if argv else DEFAULT_ADDRESS
    env = {**os.environ, "DEBUG": "1"}
    stopping = False

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    children = [
        ProcessGroupChild("runserver", [sys.executable, "manage.py", "runserver", address], env, signal.SIGINT),
        Child("outbox worker", [sys.executable, "manage.py", "send_notifications", "--loop"], env, signal.SIGTERM),
    ]
    # The reference web app (web/) is the first thing to open; runserver's own banner names only the host.
    print(f"Clinic web app: http://{address}/  (GraphQL: http://{address}/graphql/)", flush=True)
    return supervise(children, lambda: stopping)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
