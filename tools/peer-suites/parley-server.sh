#!/bin/bash
# Runs a Parley server for other projects' XMPP test suites (slixmpp's itests, xmpp.js's
# end-to-end tests): domain example.test on 127.0.0.1 only, c2s 15222 (STARTTLS unless
# turned off, see below), direct TLS 15223, HTTP 15280 (WebSocket /xmpp-websocket, BOSH
# /http-bind), HTTPS 15281, components 15347 (component.example.test, secret
# mysecretcomponentpassword), with the accounts those suites log in with. Build first (`npm run build`).
#
# usage: parley-server.sh start | stop [SIGNAL] | restart [SIGNAL] | kill [SIGNAL]
#                         | enable MOD... | disable MOD... | reset
#   The verbs are those the xmpp.js runner expects of XMPPJS_SERVER_CTL. enable and disable
#   take Prosody module names and map the SASL ones to Parley's switches: saslauth to
#   [auth] legacy_sasl, sasl2 to [auth] sasl2 (Bind 2, inline SM and FAST come with it);
#   other names are ignored. Like Prosody's, they take effect at the next (re)start; reset
#   goes back to both profiles on.
#   Anonymous logins (SASL ANONYMOUS) are on, on anon.example.test.
# environment: PARLEY_PEER_DIR (default /tmp/parley-peer): config, data, log, PID file.
#   PARLEY_PEER_LOOPBACK_STARTTLS=false offers no STARTTLS on the c2s port ([tls]
#   starttls_on_loopback), as the Prosody of xmpp.js's suite does on loopback. start stores
#   the value, so the runner's restarts keep it without the variable. true (the default)
#   turns STARTTLS on again.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BASE="${PARLEY_PEER_DIR:-/tmp/parley-peer}"
CONFIG="$BASE/parley.toml"
PIDFILE="$BASE/parley.pid"
# One file per switch, holding true or false; a missing file means true.
SWITCHES="$BASE/switches"
LOOPBACK_STARTTLS_FILE="$BASE/loopback-starttls"
# Below the kernel's ephemeral range (32768 and up on Linux), so that outgoing connections
# of a load test cannot hold one of these ports when the server starts.
PORTS="15222 15223 15280 15281 15347"
ACCOUNTS="slix1:slix1pass slix2:slix2pass e2e1:e2e1pass e2e2:e2e2pass e2e3:e2e3pass e2e4:e2e4pass client:foobar admin:adminpass"

switch() {
  cat "$SWITCHES/$1" 2>/dev/null || echo true
}

set_switches() {
  local value="$1" module
  shift
  mkdir -p "$SWITCHES"
  for module in "$@"; do
    case "$module" in
      saslauth) echo "$value" > "$SWITCHES/legacy_sasl" ;;
      sasl2) echo "$value" > "$SWITCHES/sasl2" ;;
    esac
  done
}

write_config() {
  mkdir -p "$BASE"
  cat > "$CONFIG" <<TOML
domain = "example.test"
data_dir = "$BASE/data"
[listen]
host = "127.0.0.1"
c2s_port = 15222
c2s_tls_port = 15223
http_port = 15280
https_port = 15281
component_port = 15347
[tls]
# Loopback counts as secure, as on the Prosody the suites were written for; see docs/interop.md.
allow_plaintext_on_loopback = true
starttls_on_loopback = $(loopback_starttls)
[auth]
legacy_sasl = $(switch legacy_sasl)
sasl2 = $(switch sasl2)
[anonymous]
enabled = true
logins_per_ip_per_hour = 1000
[registration]
max_per_ip_per_hour = 1000
[log]
level = "info"
[[components]]
domain = "component.example.test"
secret = "mysecretcomponentpassword"
TOML
}

loopback_starttls() {
  cat "$LOOPBACK_STARTTLS_FILE" 2>/dev/null || echo true
}

# Remembers PARLEY_PEER_LOOPBACK_STARTTLS when given, so that restarts keep it.
keep_loopback_starttls() {
  local value="${PARLEY_PEER_LOOPBACK_STARTTLS:-}"
  case "$value" in
    '') ;;
    true | false) mkdir -p "$BASE"; echo "$value" > "$LOOPBACK_STARTTLS_FILE" ;;
    *) echo "PARLEY_PEER_LOOPBACK_STARTTLS must be true or false" >&2; return 2 ;;
  esac
}

# One parleyctl process per account costs about half a second each, so the accounts are
# created once per data folder. The marker file contains the list they were created from.
create_accounts() {
  local marker="$BASE/data/.peer-accounts" pair
  [ "$(cat "$marker" 2>/dev/null)" = "$ACCOUNTS" ] && return 0
  for pair in $ACCOUNTS; do
    node "$ROOT/packages/server/dist/cli.js" -c "$CONFIG" adduser "${pair%%:*}" --password "${pair#*:}" >/dev/null 2>&1 || true
  done
  echo "$ACCOUNTS" > "$marker"
}

all_listening() {
  local port
  for port in $PORTS; do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
  done
}

# A process that exited but is not reaped yet (a zombie) counts as stopped, because it keeps
# no port open. Its parent, this script, is gone, and init reaped it up to 2 s late here.
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [ "${state:0:1}" != Z ]
}

running() {
  [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"
}

start() {
  keep_loopback_starttls
  if running; then echo "already running, pid $(cat "$PIDFILE")"; return 0; fi
  write_config
  create_accounts
  setsid node "$ROOT/packages/server/dist/main.js" -c "$CONFIG" >> "$BASE/server.log" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 200); do
    if all_listening; then echo "parley running, pid $(cat "$PIDFILE"), log $BASE/server.log"; return 0; fi
    sleep 0.05
  done
  echo "parley did not come up; see $BASE/server.log" >&2
  return 1
}

stop() {
  running || return 0
  local pid
  pid="$(cat "$PIDFILE")"
  kill "-${1:-TERM}" "$pid"
  for _ in $(seq 300); do alive "$pid" || break; sleep 0.05; done
  rm -f "$PIDFILE"
}

verb="${1:-}"
shift || true
case "$verb" in
  start) start ;;
  stop | kill) stop "${1:-TERM}" ;;
  restart) stop "${1:-TERM}"; start ;;
  enable) set_switches true "$@" ;;
  disable) set_switches false "$@" ;;
  reset) rm -rf "$SWITCHES" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
