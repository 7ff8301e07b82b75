#!/bin/sh
# `make test-debian-sid`: the suite on Python 3.14, the default Python of Debian sid,
# for a machine whose own Pythons stop short of it.
#
# It makes a Debian sid chroot with debootstrap (once; later runs reuse it), copies
# in this machine's DNS settings, hosts file and CA certificates (pip goes through them),
# mounts /proc and /dev (and the chroot on itself), clones this repo into it and
# runs `make test` there.
# Needs root. The chroot lives in $SID_CHROOT (default /var/tmp/podsixnet-kit-sid).
set -eu

kit=$(cd "$(dirname "$0")/.." && pwd)
chroot_dir=${SID_CHROOT:-/var/tmp/podsixnet-kit-sid}

if [ "$(id -u)" != 0 ]; then
    echo "make test-debian-sid needs root (for debootstrap and chroot)." >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null; then
    apt-get update -q && apt-get install -y -q debootstrap
fi

if [ ! -x "$chroot_dir/usr/bin/python3" ]; then
    # The Debian mirror this machine's apt already uses, if it names one.
    mirror=$(sed -n -e 's/^URIs: *\([^ ]*\).*/\1/p' -e 's/^deb  *\(http[^ ]*\).*/\1/p' \
        /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1)
    rm -rf "$chroot_dir"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,make,git,ca-certificates,iproute2 \
        sid "$chroot_dir" $mirror
fi

cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
cp /etc/hosts "$chroot_dir/etc/hosts"  # the chroot has this machine's name, which the server looks up
cp /etc/ssl/certs/ca-certificates.crt "$chroot_dir/etc/ssl/certs/ca-certificates.crt"

cleanup() {
    umount "$chroot_dir/dev/pts" 2>/dev/null || true
    umount "$chroot_dir/dev" 2>/dev/null || true
    umount "$chroot_dir/proc" 2>/dev/null || true
    umount "$chroot_dir/run/netns" 2>/dev/null || true  # ip netns add mounts it
    umount "$chroot_dir" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
# The chroot's root a mount point of its own: `ip -n` (the classroom network
# tests) makes / a slave mount, which fails with "Invalid argument" on a folder.
mount --bind "$chroot_dir" "$chroot_dir"
mount -t proc proc "$chroot_dir/proc"
mount --bind /dev "$chroot_dir/dev"
mount --bind /dev/pts "$chroot_dir/dev/pts"
# iproute2, for the classroom network tests (a chroot made before they existed lacks it)
[ -x "$chroot_dir/usr/bin/ip" ] || [ -x "$chroot_dir/sbin/ip" ] || chroot "$chroot_dir" apt-get install -y -q iproute2

rm -rf "$chroot_dir/kit"
git clone -q "$kit" "$chroot_dir/kit"
env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    chroot "$chroot_dir" sh -c 'python3 --version && make -C /kit test'
