#!/usr/bin/env bash
# A Debian base image made locally with debootstrap, for machines that reach Debian's packages but no
# image registry: `podman build --build-arg BASE=localhost/hub-base:bookworm-YYYYMMDD` uses it in
# place of python:3.11-slim (the same Debian release and Python 3.11). Prints the image's name.
# Kept for the day; a rebuilt one the next day picks up Debian's security updates.
set -euo pipefail
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}"
name="localhost/hub-base:bookworm-$(date -u +%Y%m%d)"
if podman image exists "$name"; then echo "$name"; exit 0; fi
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)}"
rootfs="$(mktemp -d /var/tmp/hub-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >&2
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$name" >&2
echo "$name"
