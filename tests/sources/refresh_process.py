"""A collector killed inside a token rotation: ``python refresh_process.py WORKSPACE SOURCE``.

It asks the platform for a new token (the platform rotates the refresh token and answers) and
SIGKILLs itself before the answer is saved — the crash window ``ecfusion.sources.oauth`` closes.
"""

from __future__ import annotations

import os
import signal
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from ecfusion.config import Workspace  # noqa: E402
from ecfusion.sources.oauth import Token  # noqa: E402
from ecfusion.sources.workspace import WorkspaceSources  # noqa: E402


def main() -> None:
    workspace, name = sys.argv[1:3]
    connector = WorkspaceSources.open(Workspace.open(workspace)).connector(name)
    platform_refresh = connector.tokens.refresher

    def die_once_the_platform_answered(token: Token) -> Token:
        platform_refresh(token)  # the platform has rotated; only this answer holds the new token
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    connector.tokens.refresher = die_once_the_platform_answered
    connector.tokens.force_refresh(connector.tokens.access_token())  # as after a token-expired answer


if __name__ == "__main__":
    main()
