#!/usr/bin/env bash
# Runs a command as an unprivileged user: as nobody:nogroup without capabilities when started
# as root (setpriv), as the current user otherwise. The bpf() ABI tests use it to show that
# xbpf needs no privileges.
set -euo pipefail
if [ "$(id -u)" -eq 0 ]; then
    exec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all -- "$@"
fi
exec "$@"
