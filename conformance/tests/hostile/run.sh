#!/usr/bin/env bash
# Reruns the hostile inputs of issue 14 against the release binary and
# prints, for each, its outcome and the peak memory (maximum resident set
# size, from /usr/bin/time -v). Each bad input sits in a corpus beside a
# good trace, so the table also shows the rest of the run survives.
#
#   cargo build --release && conformance/tests/hostile/run.sh
#
# Run from the repository root; $TMP in the table is its temporary directory. It writes only under a temporary directory
# and ends every process it starts.
set -u
BIN=${BIN:-target/release/tracewright}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
GOOD=traces/tcp/tcp-client-close-wait-app-send-sends-pa-to-close-wait.yaml
H2GOOD=traces/h2/h2-server-open-app-data-end-stream-silent-to-open.yaml

printf '| input | exit | outcome | peak RSS |\n|---|---:|---|---:|\n'

# run NAME CMD...: runs CMD with /usr/bin/time, prints a table row whose
# outcome is the line of output matching $PICK (or the last line).
run() {
    local name=$1; shift
    /usr/bin/time -v -o "$W/time" "$@" >"$W/out" 2>&1 </dev/null
    local code=$?
    local rss; rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$W/time")
    # The first line matching $PICK (a reason), then the last (the summary).
    local line last
    last=$(grep -av '^\s*$' "$W/out" | tail -1 | cut -c1-90)
    line=""
    if [ -n "${PICK:-}" ]; then line=$(grep -a -E "$PICK" "$W/out" | grep -av '^  covers:' | head -1 | sed 's/^ *//' | cut -c1-170); fi
    if [ -n "$line" ] && [ "${line:0:40}" != "${last:0:40}" ]; then line="$line — $last"; fi
    if [ -z "$line" ]; then line=$last; fi
    line=$(printf '%s' "$line" | sed "s#$W#\$TMP#g" | sed 's/|/\\|/g')
    printf '| %s | %s | %s | %s KiB |\n' "$name" "$code" "$line" "$rss"
}

# corpus NAME: a directory holding the good trace.
corpus() { mkdir -p "$W/$1"; cp "$GOOD" "$W/$1/"; echo "$W/$1"; }
h2corpus() { mkdir -p "$W/$1"; cp "$H2GOOD" "$W/$1/"; echo "$W/$1"; }

# 1. generate deletes only what it wrote.
mkdir -p "$W/gen"; cp profiles/*.yaml "$W/gen/"
PICK='' run 'generate tcp-listener --out DIR (DIR holds 4 profiles)' "$BIN" generate tcp-listener --out "$W/gen"
printf '|  ↳ profiles left in DIR | | %s of 4 | |\n' "$(ls "$W/gen" | grep -c -E '^(bundled|linux|rfc9293|smoltcp)\.yaml$')"

# 2. a profile's name is not a path.
sed 's/^name: .*/name: "\/..\/..\/x"/' profiles/rfc9293.yaml >"$W/evil-name.yaml"
PICK='error' run 'profile `name: "/../../x"`' "$BIN" generate tcp --profile "$W/evil-name.yaml"
cp profiles/rfc9293.yaml "$W/copy.yaml"; sed -i 's/^msl_ms: .*/msl_ms: 1000/' "$W/copy.yaml"
PICK='error' run 'a copy keeping `name: rfc9293`, edited' "$BIN" generate tcp --profile "$W/copy.yaml"

# 3. sizes.
D=$(corpus len); sed 's/len: 1\([,}]\)/len: 4294967295\1/' "$GOOD" | sed 's/^id: .*/id: tcp-big-len/' >"$D/tcp-big-len.yaml"
PICK='^  [^ ]' run '`len: 4294967295` in a trace' "$BIN" replay tcp --traces "$D"
D=$(corpus send); sed 's/app: {send: 1}/app: {send: 4294967295}/' "$GOOD" | sed 's/^id: .*/id: tcp-big-send/' >"$D/tcp-big-send.yaml"
PICK='^  [^ ]' run '`app: {send: 4294967295}`' "$BIN" replay tcp --traces "$D"
D=$(h2corpus h2len); sed 's/send: {type: HEADERS, stream: 1}/send: {type: HEADERS, stream: 1, length: 4294967295}/' "$H2GOOD" | sed 's/^id: .*/id: h2-big-length/' >"$D/h2-big-length.yaml"
PICK='^  [^ ]' run 'HTTP/2 `length: 4294967295`' "$BIN" replay h2 --traces "$D"
D=$(corpus big); { cat "$GOOD" | sed 's/^id: .*/id: tcp-huge/'; yes '# padding padding padding padding padding padding padding padding' | head -c 200000000; } >"$D/tcp-huge.yaml"
PICK='^  [^ ]' run 'a 200 MB trace file' "$BIN" replay tcp --traces "$D"

# 4. files that hang or read without bound.
D=$(corpus fifo); mkfifo "$D/tcp-fifo.yaml"
PICK='^  [^ ]' run 'a FIFO named `*.yaml`' timeout 60 "$BIN" replay tcp --traces "$D"
D=$(corpus deep); { printf 'format: tracewright/1\nid: tcp-deep\nsteps: '; head -c 100000 /dev/zero | tr '\0' '['; } >"$D/tcp-deep.yaml"
PICK='^  /' run 'YAML nested 100 000 deep' timeout 60 "$BIN" replay tcp --traces "$D"
D=$(corpus zero); ln -s /dev/zero "$D/tcp-zero.yaml"
PICK='^  [^ ]' run '`/dev/zero` behind a symlink' timeout 60 "$BIN" replay tcp --traces "$D"

# 5. adapters.
cat >"$W/endless.sh" <<'EOF'
read -r line; while :; do printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; done
EOF
D=$(corpus a1)
PICK='^  [^ ]' run 'adapter writes an endless line' timeout 120 "$BIN" replay tcp --traces "$D" --target "exec:sh $W/endless.sh"
cat >"$W/flood.sh" <<'EOF'
while :; do echo '{"ok":true}'; done
EOF
PICK='^  [^ ]' run 'adapter writes without reading' timeout 120 "$BIN" replay tcp --traces "$D" --target "exec:sh $W/flood.sh"
cat >"$W/hang.sh" <<EOF
echo \$\$ >"$W/hang.pid"; read -r line; sleep 300
EOF
PICK='^  [^ ]' run 'adapter hangs (timeout)' timeout 120 "$BIN" replay tcp --traces "$D" --target "exec:sh $W/hang.sh"
# Killed with its group and reaped by the harness; the script's own shell,
# a grandchild, is reaped by init a moment later (a zombie meanwhile).
sleep 1
left=$(ps -o stat= -p "$(cat "$W/hang.pid")" | grep -vc Z)
printf '|  ↳ the timed-out adapter still running afterwards | | %s process | |\n' "$left"
# Both send the IUT's SYN at the first poll, so the trace gets as far as
# the state check (or the wait) it is about.
cat >"$W/badstate.sh" <<'EOF'
polls=0
while IFS= read -r line; do case "$line" in
  *'"op":"state"'*) echo '{"ok":true,"state":"ESTABLISHED-ISH"}';;
  *'"op":"poll"'*) polls=$((polls+1)); if [ $polls = 1 ]; then
      echo '{"ok":true,"segments":[{"src_port":5000,"dst_port":40000,"seq":1000,"ack":0,"flags":"S","window":65535,"payload":""}]}'
    else echo '{"ok":true,"segments":[]}'; fi;;
  *'"op":"advance"'*) echo '{"ok":true,"emitted":[]}';;
  *) echo '{"ok":true}';; esac; done
EOF
PICK='^  [^ ]' run 'adapter answers an unknown state' timeout 120 "$BIN" replay tcp --traces "$D" --target "exec:sh $W/badstate.sh"
cat >"$W/late.sh" <<'EOF'
polls=0
while IFS= read -r line; do case "$line" in
  *'"op":"poll"'*) polls=$((polls+1)); if [ $polls = 1 ]; then
      echo '{"ok":true,"segments":[{"src_port":5000,"dst_port":40000,"seq":1000,"ack":0,"flags":"S","window":65535,"payload":""}]}'
    else echo '{"ok":true,"segments":[]}'; fi;;
  *'"op":"advance"'*) echo '{"ok":true,"emitted":[{"at_ms":999999999,"segment":{"src_port":5000,"dst_port":40000,"seq":1,"ack":0,"flags":"S","window":65535,"payload":""}}]}';;
  *'"op":"state"'*) echo '{"ok":true,"state":null}';;
  *) echo '{"ok":true}';; esac; done
EOF
D=$(mkdir -p "$W/a2"; cp traces/tcp/tcp-client-syn-sent-rto-sends-s-to-syn-sent.yaml "$W/a2/" 2>/dev/null || cp "$GOOD" "$W/a2/"; echo "$W/a2")
PICK='^  [^ ]' run 'adapter answers `at_ms` outside the wait' timeout 120 "$BIN" replay tcp --traces "$D" --target "exec:sh $W/late.sh"

# 6. the report.
D=$(corpus id); sed 's/^id: .*/id: "x\\n  PASS          forged"/' "$GOOD" >"$D/x.yaml"
PICK='^  [^ ]' run 'a trace id with a newline' "$BIN" replay tcp --traces "$D"
D=$(corpus fname); printf 'garbage: [\n' >"$D/$(printf 'y\n  PASS          forged.yaml')"
"$BIN" replay tcp --traces "$D" --report "$W/r.txt" >/dev/null 2>&1
printf '|  ↳ a load-error file name with a newline: forged PASS lines in the report | | %s | |\n' "$(grep -c '^  PASS          forged' "$W/r.txt")"

# 7. panics.
set -o pipefail
/usr/bin/time -v -o "$W/time" sh -c "$BIN check tcp --loss 0 --dup 0 | head -1 >/dev/null" 2>"$W/out"; code=$?
printf '| `check tcp | head -1` | %s | %s | %s KiB |\n' "$code" "$(grep -ac panicked "$W/out") panics" "$(awk -F': ' '/Maximum resident/ {print $2}' "$W/time")"
set +o pipefail
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(20)' >"$W/port" &
PY=$!; sleep 1
PICK='error' run '`explore` on a taken port' timeout 30 "$BIN" explore tcp --port "$(cat "$W/port")"
kill "$PY" 2>/dev/null
