#!/usr/bin/env bash
# A small certificate authority for one campus network, and the broker's certificate.
#
#   make-ca.sh [-d DIR] [--renew] HOSTNAME [ALT_NAME...]
#
#   HOSTNAME   the name readers use to reach the broker (e.g. presence.campus.lan);
#              it goes in the certificate, which readers verify.
#   ALT_NAME   more names or IP addresses readers may use (e.g. 192.168.10.5).
#   -d DIR     where to write (default /etc/mosquitto/campus).
#   --renew    issue a new server key and certificate even if one exists (the CA is kept,
#              so readers need nothing new).
#
# Writes ca.key + ca.crt (10 years) if they do not exist yet, and server.key + server.crt
# (825 days) if they do not exist or with --renew. Idempotent: running it again changes
# nothing. Keys are elliptic-curve P-256, readable by root (and the mosquitto group for
# server.key). Copy ca.crt, and only ca.crt, to every reader. Keep ca.key offline if you
# can: whoever holds it can impersonate the broker.
set -euo pipefail
umask 077

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

dir=/etc/mosquitto/campus
renew=false
names=()
while (($#)); do
  case "$1" in
    -d) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
    --renew) renew=true; shift ;;
    -h | --help) usage ;;
    -*) echo "make-ca.sh: unknown option $1" >&2; usage ;;
    *) names+=("$1"); shift ;;
  esac
done
((${#names[@]})) || usage
command -v openssl >/dev/null || { echo "make-ca.sh: openssl not found" >&2; exit 1; }

host="${names[0]}"
san=""
for name in "${names[@]}"; do
  if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then
    san+="${san:+,}IP:$name"
  elif [[ "$name" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    san+="${san:+,}DNS:$name"
  else
    echo "make-ca.sh: '$name' is neither a host name nor an IP address" >&2
    exit 2
  fi
done

mkdir -p "$dir"
cd "$dir"
# The directory holds secrets: root and the mosquitto group only.
chmod 750 .
if [[ "$(id -u)" == 0 ]] && getent group mosquitto >/dev/null; then
  chgrp mosquitto .
fi

if [[ -s ca.key && -s ca.crt ]]; then
  echo "make-ca.sh: keeping the existing CA in $dir" >&2
else
  echo "make-ca.sh: creating the campus CA in $dir" >&2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 3650 \
    -subj "/O=Campus connecte/CN=Campus presence CA ${host}" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out ca.crt
  rm -f server.crt # a server certificate from another CA would not verify
fi

if [[ -s server.key && -s server.crt && "$renew" == false ]]; then
  echo "make-ca.sh: keeping the existing server certificate (use --renew for a new one)" >&2
else
  echo "make-ca.sh: issuing the server certificate for $san" >&2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key.new 2>/dev/null
  extensions="$(mktemp)"
  trap 'rm -f "$extensions" server.csr' EXIT
  cat >"$extensions" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
  openssl req -new -key server.key.new -subj "/O=Campus connecte/CN=${host}" -out server.csr
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 \
    -days 825 -extfile "$extensions" -out server.crt.new 2>/dev/null
  mv -f server.key.new server.key
  mv -f server.crt.new server.crt
fi

chmod 600 ca.key
chmod 644 ca.crt server.crt
chmod 640 server.key
# Mosquitto reads its key after switching to user mosquitto.
if [[ "$(id -u)" == 0 ]] && getent group mosquitto >/dev/null; then
  chgrp mosquitto server.key ca.crt server.crt
fi

openssl verify -CAfile ca.crt server.crt >/dev/null
echo "make-ca.sh: done. Give every reader $dir/ca.crt; its SHA-256 fingerprint is" >&2
openssl x509 -in ca.crt -noout -fingerprint -sha256 >&2
