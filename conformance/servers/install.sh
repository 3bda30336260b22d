#!/usr/bin/env bash
# Installs the real HTTP/2 servers the suite starts itself
# (conformance/src/h2/servers.rs) from Debian's packages: nghttpd
# (nghttp2-server), nginx (nginx-light), h2o, Apache httpd (apache2, whose
# mod_http2 is part of the package) and curl to check them by hand.
# Idempotent: a package already installed is left alone, and nothing is
# fetched when all are there. Needs root (CI runs as root) and apt-get.
# None of them is started here: no init system runs them, the suite does.
set -euo pipefail

packages=(nghttp2-server nginx-light h2o apache2 curl)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "HTTP/2 servers: all installed (${packages[*]})"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "HTTP/2 servers: missing ${missing[*]}; run this script as root (apt-get install)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start nginx/apache2/h2o on their default
# port 80; policy-rc.d exit 101 forbids that, so installing starts nothing.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  made_policy=1
fi
trap '[[ $made_policy -eq 1 ]] && rm -f "$policy"' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "HTTP/2 servers: installed ${missing[*]}"
