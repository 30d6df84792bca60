#!/usr/bin/env bash
# Runs a command as an unprivileged user: as nobody:nogroup without capabilities when started
# as root (setpriv), as the current user otherwise. The bpf() ABI tests use it to show that
# xbpf needs no privileges.
set -euo pipefail
if [ "$(id -u)" -eq 0 ]; then
    as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --)
    # A checkout nobody cannot reach (under /root, say) cannot show this: skip (CTest: 77).
    for arg in "$@"; do
        if [ -e "$arg" ] && ! "${as_nobody[@]}" test -r "$arg"; then
            echo "SKIP: user nobody cannot read $arg"
            exit 77
        fi
    done
    exec "${as_nobody[@]}" "$@"
fi
exec "$@"
