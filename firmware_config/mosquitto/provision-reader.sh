#!/usr/bin/env bash
# Give a door reader its own broker account, and print its configuration once.
#
#   provision-reader.sh [options] CAMPUS READER
#
#   CAMPUS, READER   ids matching [a-z0-9-]{1,64}; READER becomes the account's user name,
#                    which the ACL ties to campus/CAMPUS/readers/READER/.
#   -d DIR           broker config directory (default /etc/mosquitto/campus): the
#                    password file "passwords" and the ACL file "acl" are there.
#   -H HOST          broker name for the reader (default: this machine's FQDN); it must be
#                    in the broker's certificate (make-ca.sh).
#   -p PORT          broker TLS port for the reader (default 8883).
#   -o FILE          write the reader's configuration to FILE (mode 600) instead of
#                    standard output.
#   --rotate         issue a new password for a reader that already has an account.
#
# Idempotent: for a reader that already has an account it changes nothing and prints no
# secret (use --rotate to issue a new password, e.g. for a replaced Raspberry Pi). The
# ACL file is rendered from acl.template for CAMPUS if it does not exist; an existing one
# for the same campus is left alone (local additions are kept), one for another campus is
# an error.
#
# The password is random (192 bits), goes to mosquitto_passwd through a pipe (never on a
# command line), and is printed only once, in the configuration for the operator: on
# standard output, or in the -o file. Progress messages go to standard error and never
# contain it. Mosquitto reads the files again on SIGHUP: systemctl reload mosquitto.
set -euo pipefail
set +o xtrace # even under "bash -x", never trace the password
umask 077

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}
say() { echo "provision-reader.sh: $*" >&2; }
die() {
  say "$1"
  exit "${2:-1}"
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir=/etc/mosquitto/campus
host=""
port=8883
output=""
rotate=false
args=()
while (($#)); do
  case "$1" in
    -d) [[ $# -ge 2 ]] || usage; dir="$2"; shift 2 ;;
    -H) [[ $# -ge 2 ]] || usage; host="$2"; shift 2 ;;
    -p) [[ $# -ge 2 ]] || usage; port="$2"; shift 2 ;;
    -o) [[ $# -ge 2 ]] || usage; output="$2"; shift 2 ;;
    --rotate) rotate=true; shift ;;
    -h | --help) usage ;;
    -*) say "unknown option $1"; usage ;;
    *) args+=("$1"); shift ;;
  esac
done
((${#args[@]} == 2)) || usage
campus="${args[0]}"
reader="${args[1]}"

id_pattern='^[a-z0-9-]{1,64}$'
[[ "$campus" =~ $id_pattern ]] || die "campus id '$campus' must match [a-z0-9-]{1,64}" 2
[[ "$reader" =~ $id_pattern ]] || die "reader id '$reader' must match [a-z0-9-]{1,64}" 2
[[ "$reader" != campus-server ]] || die "'campus-server' is the server's account" 2
[[ "$port" =~ ^[0-9]{1,5}$ ]] || die "port '$port' is not a number" 2
[[ -n "$host" ]] || host="$(hostname -f 2>/dev/null || hostname)"

passwd_bin="$(command -v mosquitto_passwd || true)"
[[ -n "$passwd_bin" ]] || die "mosquitto_passwd not found: apt-get install mosquitto"
template="$here/acl.template"
[[ -r "$template" ]] || die "cannot read $template"

mkdir -p "$dir"
chmod 750 "$dir"
mosquitto_group=""
if [[ "$(id -u)" == 0 ]] && getent group mosquitto >/dev/null; then
  mosquitto_group=mosquitto
  chgrp mosquitto "$dir"
fi

# Mosquitto reads these files after dropping to user mosquitto: root rw, group r.
protect() {
  chmod 640 "$1"
  [[ -z "$mosquitto_group" ]] || chgrp "$mosquitto_group" "$1"
}

# One provisioning at a time: two concurrent runs would race on the password file.
if command -v flock >/dev/null; then
  exec 9>"$dir/.provision.lock"
  flock -w 30 9 || die "another provisioning is running (lock $dir/.provision.lock)"
fi

# --- ACL ------------------------------------------------------------------------------
acl="$dir/acl"
rendered="$(sed "s/{campus}/$campus/g" "$template")"
if [[ ! -e "$acl" ]]; then
  printf '%s\n' "$rendered" >"$acl"
  protect "$acl"
  say "wrote $acl for campus $campus"
elif [[ "$(cat "$acl")" == "$rendered" ]]; then
  :
elif grep -qxF "pattern write campus/$campus/readers/%u/taps" "$acl"; then
  say "$acl differs from acl.template but is for campus $campus: left as it is"
else
  die "$acl is not for campus $campus (no 'pattern write campus/$campus/readers/%u/taps')" 3
fi

# --- account --------------------------------------------------------------------------
passwords="$dir/passwords"
if [[ ! -e "$passwords" ]]; then
  : >"$passwords"
  protect "$passwords"
fi
if grep -q "^${reader}:" "$passwords"; then
  if [[ "$rotate" == false ]]; then
    say "reader $reader already has an account: nothing changed, no password shown"
    say "(use --rotate to issue a new password)"
    exit 0
  fi
  action="issued a new password for"
else
  action="created the account"
fi

password="$(openssl rand -hex 24)"
[[ ${#password} -eq 48 ]] || die "could not generate a password (openssl rand)"
if ! printf '%s\n%s\n' "$password" "$password" | "$passwd_bin" "$passwords" "$reader" >/dev/null; then
  die "mosquitto_passwd failed"
fi
protect "$passwords"

snippet() {
  cat <<EOF
# Edge agent configuration for reader "$reader" of campus "$campus".
# Install it on the reader as /etc/campus-edge/config.toml (mode 600), with the campus CA
# certificate ($dir/ca.crt) as /etc/campus-edge/ca.crt. The password below is shown
# only this once: it is stored on the broker as a salted hash.
campus = "$campus"
reader = "$reader"

[mqtt]
host = "$host"
port = $port
tls = true
ca_file = "/etc/campus-edge/ca.crt"
username = "$reader"
password = "$password"
EOF
}

if [[ -n "$output" ]]; then
  (umask 077 && snippet >"$output")
  chmod 600 "$output"
  say "$action $reader; its configuration is in $output (mode 600)"
else
  snippet
  say "$action $reader"
fi
say "now reload the broker so it reads the files again: systemctl reload mosquitto"
