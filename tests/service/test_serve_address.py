"""An address the server cannot listen on stops start-up with one line, before any job starts."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.support.service import ROOT, clean_environment


def test_a_port_in_use_stops_start_up_with_one_line(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_environment(tmp_path, PROVISIONER_PORT=str(port), PROVISIONER_HOST='127.0.0.1')

        done = subprocess.run([sys.executable, 'main.py'], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f'provisioner: cannot serve on 127.0.0.1:{port}: Address already in use '
        '(set PROVISIONER_HOST / PROVISIONER_PORT)']
    assert not (tmp_path / 'data' / 'secret.key').exists()  # nothing was set up
