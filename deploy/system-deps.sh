#!/usr/bin/env bash
# The Debian packages the marketplace needs: WeasyPrint's text stack, fonts, PostgreSQL's client tools (backups);
# for development also Chromium for the browser tests, poppler for reading PDFs back in tests, wrk for `make bench`,
# nginx for deploy/local-cluster and the test of deploy/nginx.conf (`nginx -t`).
# `--server` installs only what a production server runs. Installed with apt when run as root, otherwise named with
# the exact command to run.
set -euo pipefail
PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core postgresql-client)
case "${1:-}" in
  --server) ;;
  "") PACKAGES+=(chromium poppler-utils wrk nginx) ;;
  *) echo "usage: deploy/system-deps.sh [--server]" >&2; exit 2 ;;
esac
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${missing[*]} (install them with your system's package manager)" >&2
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing system packages. Run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
