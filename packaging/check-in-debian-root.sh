#!/usr/bin/env bash
# Installs the Debian package into a clean Debian root the way an operator would
# (`apt-get install ./aircall-monday-bridge_*.deb`), then checks what it installed and starts
# the installed service's own command lines inside that root with only the two credentials
# written (ExecStartPre= check, then ExecStart= run), and stops it with SIGTERM.
#
#   packaging/check-in-debian-root.sh DEB [BASE_ROOT]
#
# BASE_ROOT: a root made by `debootstrap --variant=minbase bookworm DIR` (copied, never
# changed); without it, one is made in a temporary directory. Needs root, debootstrap, and
# Debian's mirror (apt-get installs the package's dependencies, systemd among them).
set -euo pipefail

deb="$(realpath "${1:?usage: $0 DEB [BASE_ROOT]}")"
base="${2:-}"
name=aircall-monday-bridge
work="$(mktemp -d)"
root="$work/root"

cleanup() {
    for m in dev/pts dev proc; do umount "$root/$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$base" ]; then
    cp -a "$base" "$root"
else
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
fi
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

echo "== install: apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
in_root apt-get update -qq
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "/tmp/$(basename "$deb")" | tail -n 20

echo "== what it installed"
for path in /usr/bin/$name /lib/systemd/system/$name.service /etc/$name/config.toml \
    /usr/share/doc/$name/README.md; do
    [ -f "$root$path" ] || { echo "missing: $path" >&2; exit 1; }
    echo "ok  $path"
done
mode="$(stat -c %a "$root/etc/$name/credentials")"
[ "$mode" = 700 ] || { echo "credentials directory is $mode, not 700" >&2; exit 1; }
echo "ok  /etc/$name/credentials (0700)"

echo "== systemd-analyze verify of the installed unit"
in_root systemd-analyze verify "/lib/systemd/system/$name.service"

echo "== the service's command lines with only the two credentials written"
creds="/etc/$name/credentials"
in_root sh -c "umask 077; echo webhook-token > $creds/aircall_token; echo monday-token > $creds/monday_token"
mkdir -p "$root/var/lib/$name"
env_for_unit=(CREDENTIALS_DIRECTORY="$creds" STATE_DIRECTORY="/var/lib/$name"
    BRIDGE__SERVER__LISTEN=127.0.0.1:0 BRIDGE__SERVER__ADMIN_LISTEN=127.0.0.1:0)
in_root env "${env_for_unit[@]}" "/usr/bin/$name" check --config "/etc/$name/config.toml"
# chroot and env exec in turn: $! is the bridge itself, which the SIGTERM below must reach.
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin "${env_for_unit[@]}" "/usr/bin/$name" run \
    --config "/etc/$name/config.toml" --ready-file /tmp/ready.json > "$work/run.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
    [ -s "$root/tmp/ready.json" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/run.log" >&2; echo "the installed bridge exited" >&2; exit 1; }
    sleep 0.1
done
[ -s "$root/tmp/ready.json" ] || { cat "$work/run.log" >&2; echo "not ready in 20 s" >&2; exit 1; }
admin="$(sed -n 's/.*"admin":"\([^"]*\)".*/\1/p' "$root/tmp/ready.json")"
echo "ready: $(cat "$root/tmp/ready.json")"
curl -fsS "http://$admin/healthz"; echo
[ -f "$root/var/lib/$name/bridge.db" ] || { echo "no database in the state directory" >&2; exit 1; }
echo "ok  /var/lib/$name/bridge.db"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { cat "$work/run.log" >&2; echo "SIGTERM: exited $status, not 0" >&2; exit 1; }
echo "ok  SIGTERM: exited 0"
echo "== the package installs and starts in a clean Debian root"
