#!/usr/bin/env bash
# Everything the tests need from the system, on a fresh Debian 12 machine as root (idempotent): real libvirtd +
# QEMU and the test guests' kernel (e2e, compat, bench), a real systemd in a container (system tests), man (docs),
# Python's libvirt bindings and Ansible (test/integration/clients).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
echo "== system packages: real libvirtd + QEMU for the e2e and compat tests"
apt-get update -qq
bash scripts/real-libvirt/setup.sh
echo "== system packages: a real systemd in a container (system tests), man pages (docs tests)"
apt-get install -y -qq --no-install-recommends systemd-container man-db groff-base >/dev/null
echo "== system packages: libvirt clients nobody here wrote (Python's bindings, Ansible's community.libvirt)"
apt-get install -y -qq --no-install-recommends python3-libvirt ansible >/dev/null
