#!/usr/bin/env bash
# Runs a command as an unprivileged user: as nobody:nogroup without capabilities when started
# as root (setpriv), as the current user otherwise. The bpf() ABI tests use it to show that
# xbpf needs no privileges.
#
# A checkout nobody cannot reach (under /root, say) would hide that, so files among the
# arguments that nobody cannot read are staged first: copied into a fresh world-readable
# directory (with a libxbpf-preload.so lying beside one of them, which `xbpf exec` looks for
# next to itself, and the scripts beside a script), and the command runs on the copies. The
# binaries are self-contained.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
    exec "$@"
fi
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --)
stage=""
args=()
for arg in "$@"; do
    if [ -f "$arg" ] && ! "${as_nobody[@]}" test -r "$arg"; then
        if [ -z "$stage" ]; then
            stage=$(mktemp -d /tmp/xbpf-unprivileged.XXXXXX)
            chmod 755 "$stage"
        fi
        copy="$stage/$(basename "$arg")"
        cp -p "$arg" "$copy"
        chmod a+rX "$copy"
        if [[ "$arg" == *.sh ]]; then  # a test script: the scripts it calls beside it too
            for sibling in "$(dirname "$arg")"/*.sh; do
                [ -e "$stage/$(basename "$sibling")" ] || cp -p "$sibling" "$stage/"
            done
            chmod a+rx "$stage"/*.sh
        fi
        preload="$(dirname "$arg")/libxbpf-preload.so"
        if [ -f "$preload" ] && [ ! -e "$stage/libxbpf-preload.so" ]; then
            cp -p "$preload" "$stage/" && chmod a+r "$stage/libxbpf-preload.so"
        fi
        args+=("$copy")
    else
        args+=("$arg")
    fi
done
if [ -z "$stage" ]; then
    exec "${as_nobody[@]}" "$@"
fi
status=0
"${as_nobody[@]}" "${args[@]}" || status=$?
rm -rf "$stage"
exit "$status"
