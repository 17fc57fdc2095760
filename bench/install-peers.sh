#!/bin/sh
# Installs the load generator and the peers `npm run bench` compares against:
# wrk, Phusion Passenger 6 (standalone), puma (Rack), gunicorn (WSGI) and uvicorn (ASGI).
# Idempotent: packages already present are left alone. A package that cannot
# be installed is reported and skipped; the bench then skips that peer too.
set -u

# Arguments: a subset of the packages (default: all of them).
PACKAGES="${*:-wrk passenger puma gunicorn python3-uvicorn}"

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-peers: not root and no password-less sudo: cannot install $PACKAGES; the bench will skip what is missing" >&2
    exit 0
  fi
else
  SUDO=""
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-peers: no apt-get on this machine: install $PACKAGES yourself; the bench skips what is missing" >&2
  exit 0
fi

missing=""
for p in $PACKAGES; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "install-peers: $p already installed"
  else
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "install-peers: installing$missing"
$SUDO apt-get update -qq || echo "install-peers: apt-get update failed; trying with the current package lists" >&2
for p in $missing; do
  if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null; then
    echo "install-peers: $p installed"
  else
    echo "install-peers: could not install $p; the bench will skip it" >&2
  fi
done
exit 0
