# tests/e2e/runnable.sh — runs the shell blocks of a markdown file as a reader
# would paste them, line by line, the way jq runs its manual's examples. Sourced
# by tests/e2e/test_readme_usage.sh, test_docs_runnable.sh and
# tests/cli/test_md_runnable.sh; bash.
#
# The marker: a fenced block whose info string is `sh runnable`:
#
#     ```sh runnable
#     skyload simulate --scenario smoke -t flights --manifest run.json
#     skyload ingest -t flights --init-schema --metrics 127.0.0.1:9464    # Ctrl-C stops it
#     ```
#
# Every other block is documentation only. In a runnable block:
# - each line is one command, exactly as written (a line ending in `\` goes on
#   on the next one); blank and comment-only lines are skipped;
# - a command must exit 0, within RUNNABLE_LINE_TIMEOUT seconds (default 300);
# - a line whose comment says "Ctrl-C stops it" runs until the reader would press
#   Ctrl-C: it gets SIGINT (sent to its process group, as the terminal sends it)
#   once its stop condition holds, and must then exit 0. `skyload ingest ...
#   --metrics H:P` stops once its /metrics shows lag 0 and nothing pending (at most
#   RUNNABLE_DRAIN_TIMEOUT s, default 180); any other line after
#   RUNNABLE_STOP_AFTER seconds (default 5);
# - the shell is fresh: `env -i` with only PATH and HOME (and TERM=dumb), started in
#   the work directory the caller prepared, all blocks of one file in one shell (a
#   line's `export` or `cd` carries on, as in a terminal). Other lines run as jobs
#   of their own (job control on), so nothing they do leaks into the next line but
#   their files.
#
# A failing line prints "FAIL: FILE:LINE: exit N: COMMAND" and the run stops there.

# runnable_lines FILE: prints "LINE<TAB>COMMAND" for every command of FILE's
# runnable blocks (continuations joined, LINE = the command's first line).
runnable_lines() {
  awk '
    /^[[:space:]]*```/ {
      if (!inblock && $0 ~ /^[[:space:]]*```sh[[:space:]]+runnable[[:space:]]*$/) { inblock = 1; next }
      if (inblock) { inblock = 0; if (cmd != "") { print start "\t" cmd; cmd = "" } ; next }
    }
    inblock {
      line = $0
      if (cmd == "") {
        if (line ~ /^[[:space:]]*$/ || line ~ /^[[:space:]]*#/) next
        start = NR
      }
      if (line ~ /\\$/) { cmd = cmd substr(line, 1, length(line) - 1); next }
      cmd = cmd line
      print start "\t" cmd
      cmd = ""
    }
    END { if (inblock) { print "runnable: unterminated block" > "/dev/stderr"; exit 1 } }
  ' "$1"
}

# The helpers the fresh shell runs each line with (written into its script).
_runnable_prelude() {
  cat <<'PRELUDE'
set -m
__rl_timeout=${RUNNABLE_LINE_TIMEOUT:-300}
__rl_stop_after=${RUNNABLE_STOP_AFTER:-5}
__rl_drain_timeout=${RUNNABLE_DRAIN_TIMEOUT:-180}

# __rl_metric TEXT NAME: the value of a Prometheus sample NAME in TEXT (empty if none)
__rl_metric() {
  printf '%s\n' "$1" | awk -v n="$2" '$1 == n { print $2; exit }'
}

# __rl_get HOST PORT: the body of GET /metrics (bash /dev/tcp, no client needed)
__rl_get() {
  local fd body
  { exec {fd}<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&"$fd"
  body=$(timeout 5 cat <&"$fd")
  exec {fd}<&-
  printf '%s\n' "${body#*$'\r\n\r\n'}"
}

# __rl_wait_drained PID HOST PORT: until ingest's /metrics shows it caught up
# (something consumed, lag 0 and nothing pending, twice in a row)
__rl_wait_drained() {
  local pid=$1 host=$2 port=$3 m ok=0 end=$((SECONDS + __rl_drain_timeout))
  while ((SECONDS < end)); do
    kill -0 "$pid" 2>/dev/null || return 0 # ended by itself: its status tells
    if m=$(__rl_get "$host" "$port") &&
      [[ $(__rl_metric "$m" skyload_ingest_consumer_lag) == 0 &&
        $(__rl_metric "$m" skyload_ingest_pending_rows) == 0 &&
        $(__rl_metric "$m" skyload_ingest_consumed_total) -gt 0 ]] 2>/dev/null; then
      ((++ok >= 2)) && return 0
    else
      ok=0
    fi
    sleep 0.5
  done
  echo "runnable: ingest did not drain in ${__rl_drain_timeout} s (http://$host:$port/metrics)" >&2
  return 1
}

# __rl_stop PID: Ctrl-C (SIGINT to the job's process group), then wait for it
__rl_stop() {
  local i
  kill -INT -- "-$1" 2>/dev/null
  for ((i = 0; i < 600; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$1" 2>/dev/null && { echo "runnable: still running 60 s after Ctrl-C; killed" >&2; kill -KILL -- "-$1"; }
}

# __rl FILE LINE COMMAND: run one line as the reader would
__rl() {
  local file=$1 line=$2 cmd=$3 pid rc=0 st first end
  printf '\n$ %s    (%s:%s)\n' "$cmd" "$file" "$line" >&2
  read -r first _ <<<"$cmd"
  case $first in
  export | cd | eval | source | . | set | unset | alias | shopt | *=*)
    eval "$cmd" || rc=$? # changes the shell itself: run in it
    ;;
  *)
    eval "$cmd" &
    pid=$!
    if [[ $cmd == *"Ctrl-C stops it"* ]]; then
      if [[ $cmd =~ skyload[[:space:]]+ingest ]]; then
        if [[ $cmd =~ --metrics[[:space:]=]+([^[:space:]]+):([0-9]+) ]]; then
          __rl_wait_drained "$pid" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || rc=1
        else
          echo "runnable: an ingest line stopped with Ctrl-C needs --metrics H:P to see it drain" >&2
          rc=1
        fi
      else
        end=$((SECONDS + __rl_stop_after))
        while ((SECONDS < end)) && kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
      fi
      __rl_stop "$pid"
    else
      end=$((SECONDS + __rl_timeout))
      while ((SECONDS < end)) && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "runnable: still running after ${__rl_timeout} s" >&2
        __rl_stop "$pid"
        rc=124
      fi
    fi
    wait "$pid"
    st=$?
    ((rc)) || rc=$st
    ;;
  esac
  if ((rc)); then
    printf 'FAIL: %s:%s: exit %s: %s\n' "$file" "$line" "$rc" "$cmd" >&2
    exit 1
  fi
}
PRELUDE
}

# runnable_run FILE WORKDIR [PATH]: runs FILE's runnable lines in a fresh shell in
# WORKDIR with PATH (default /usr/local/bin:/usr/bin:/bin) and HOME=WORKDIR/home.
# Returns the shell's status (0 = every line exited 0). FILE is named relative to
# SKY_SOURCE_DIR in messages when it lies inside it.
runnable_run() {
  local file=$1 work=$2 path=${3:-/usr/local/bin:/usr/bin:/bin} script name lines
  name=${file#"${SKY_SOURCE_DIR:-/nonexistent}/"}
  lines=$(runnable_lines "$file") || return 1
  [[ -n $lines ]] || { echo "runnable: no runnable block in $file" >&2; return 1; }
  mkdir -p "$work/home"
  script=$(mktemp)
  {
    _runnable_prelude
    local ln cmd
    while IFS=$'\t' read -r ln cmd; do
      printf '__rl %q %q %q\n' "$name" "$ln" "$cmd"
    done <<<"$lines"
    echo 'printf "\nrunnable: every line exited 0\n" >&2'
  } >"$script"
  local rc=0
  (cd "$work" && env -i PATH="$path" HOME="$work/home" TERM=dumb \
    ${RUNNABLE_LINE_TIMEOUT:+RUNNABLE_LINE_TIMEOUT=$RUNNABLE_LINE_TIMEOUT} \
    ${RUNNABLE_STOP_AFTER:+RUNNABLE_STOP_AFTER=$RUNNABLE_STOP_AFTER} \
    bash --noprofile --norc "$script" </dev/null) || rc=$?
  rm -f "$script"
  return $rc
}

# runnable_workdir DIR BUILD_DIR STACK_DIR: a scratch directory that looks like the
# clone's top directory (each top-level entry a symlink, build/ the build being
# tested, .stack the stack in use), so commands run as written and the files they
# write stay out of the source tree.
runnable_workdir() {
  local dir=$1 build=$2 stack=$3 e
  mkdir -p "$dir"
  for e in "$SKY_SOURCE_DIR"/* "$SKY_SOURCE_DIR"/.ci; do
    [[ -e $e ]] || continue
    case ${e##*/} in build | build-* | report | .stack) continue ;; esac
    ln -s "$e" "$dir/${e##*/}"
  done
  ln -s "$build" "$dir/build"
  ln -s "$stack" "$dir/.stack"
}
