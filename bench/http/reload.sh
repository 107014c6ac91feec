# bench/http/reload.sh: the reload run of bench/http/run (`run --only reload`), sourced by run: it uses run's
# settings (rounds, connections, threads, reload_seconds) and functions (launch, wait_until, start_server,
# stop_server, load, free_port, connects, check_response).
#
# Three servers, 2 workers each on 127.0.0.1, `GET /` loaded by wrk for --reload-seconds (default 20) while each
# is reloaded once a second, with keep-alive and with `Connection: close`:
#   lesson07  lessons/07-zero-downtime-reload: SIGHUP to the primary (a new worker ready before an old one drains)
#   pm2       PM2 (pinned in package-lock.json) in cluster mode running the seed's server.js: `pm2 reload seed`
#   nginx     Debian's nginx: SIGHUP to the master (new workers, old ones finish gracefully)
# Prints the median req/s over the rounds, the failed requests (wrk's socket errors and non-2xx answers, all
# rounds), the reloads done, and the goals: no failed request for lesson07, and at least its peers' req/s.
# PM2 runs a daemon of its own: it gets a PM2_HOME in run's temporary folder and is killed after each run.

reload_servers=(lesson07 pm2 nginx)
pm2_home=""

pm2_cli() { PM2_HOME="$pm2_home" "$here/node_modules/.bin/pm2" "$@"; }

# pm2_online N: PM2 lists N processes, all online.
pm2_online() {
  [ "$(pm2_cli jlist 2>/dev/null | node -e '
    let text = ""; process.stdin.on("data", (d) => { text += d; }).on("end", () => {
      try { console.log(JSON.parse(text).filter((p) => p.pm2_env.status === "online").length); } catch { console.log(0); }
    });')" = "$1" ]
}

# start_reload_server NAME: starts it with 2 workers and returns once they all serve.
start_reload_server() {
  case "$1" in
    lesson07)
      starting=1
      launch lesson07 "$lesson07" --workers 2 --port 0 --host 127.0.0.1
      wait_until "lesson07's 'listening port=' line" 10 lines_at_least "$server_log" '^listening port=[0-9]+' 1
      server_port=$(sed -n -E 's/^listening port=([0-9]+).*/\1/p' "$server_log" | head -n 1)
      wait_until "lesson07's 2 'ready id=' lines" 10 lines_at_least "$server_log" '^ready id=[0-9]+' 2
      starting=0
      check_response "$server_port" || { echo "run: error: lesson07 answers GET / wrongly (above)" >&2; return 1; } ;;
    pm2)
      server_name=pm2 server_log="$tmp/pm2.log" pm2_home="$tmp/pm2-home"
      server_port=$(free_port)
      # The seed's server.js as it is: in PM2's cluster mode each instance is a cluster worker, so it serves.
      PORT=$server_port HOST=127.0.0.1 NODE_ENV=production pm2_cli start "$here/server.js" -i 2 --name seed \
        >"$server_log" 2>&1 || { cat "$server_log" >&2; return 1; }
      wait_until "PM2's seed to accept on port $server_port" 15 connects "$server_port"
      wait_until "PM2's 2 instances online" 15 pm2_online 2
      check_response "$server_port" || { echo "run: error: PM2's seed answers GET / wrongly (above)" >&2; return 1; } ;;
    nginx)
      start_server nginx 2 ;;
  esac
}

# reload_now NAME: one reload; true when it was done (PM2's command waits for its end; a signal is only sent).
reload_now() {
  case "$1" in
    lesson07|nginx) kill -HUP "$server_pid" ;;
    pm2) pm2_cli reload seed >>"$server_log" 2>&1 ;;
  esac
}

stop_reload_server() {
  if [ "$1" != pm2 ]; then stop_server; return; fi
  [ -n "$pm2_home" ] || return 0
  local daemon
  daemon=$(cat "$pm2_home/pm2.pid" 2>/dev/null || true)
  pm2_cli kill >>"$server_log" 2>&1 || true
  if [[ $daemon =~ ^[0-9]+$ ]] && [ "$daemon" -gt 1 ]; then
    wait_until "PM2's daemon to exit" 10 eval "! kill -0 $daemon 2>/dev/null" || kill -KILL "$daemon" 2>/dev/null || true
  fi
  pm2_home=""
  wait_until "nothing to listen on port $server_port after PM2" 5 eval "! listener_on $server_port" ||
    echo "run: warning: something still listens on port $server_port after PM2 stopped" >&2
}

# reload_ratio A B: A / B with two decimals.
reload_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

# reload_sum FILE NAME MODE COLUMN: the sum of COLUMN over the rounds of NAME in MODE.
reload_sum() {
  awk -F '\t' -v s="$2" -v m="$3" -v c="$4" 'NR > 1 && $2 == s && $3 == m { t += $c } END { print t + 0 }' "$1"
}

# Called by run's cleanup: a PM2 daemon must not outlive the run.
reload_cleanup() { [ -z "$pm2_home" ] || stop_reload_server pm2 2>/dev/null || true; }

# reload_case NAME MODE: one measured run; prints "req_per_s errors reloads_done reloads_sent".
reload_case() {
  local name=$1 mode=$2 out="$tmp/reload-load.out" sent=0 done_count start at k left
  start_reload_server "$name" >&2 || return 1
  load keep-alive / 1 >/dev/null   # warm-up, as for the other loads
  load "$mode" / "$reload_seconds" >"$out" &
  local load_job=$!
  start=$EPOCHREALTIME
  # One reload a second, at 0.5 s, 1.5 s, ...: the benchmark's pace (nothing here waits on time to synchronise).
  for ((k = 0; k < reload_seconds; k++)); do
    at=$(awk -v s="$start" -v k="$k" 'BEGIN { printf "%.6f", s + k + 0.5 }')
    left=$(awk -v at="$at" -v now="$EPOCHREALTIME" 'BEGIN { d = at - now; printf "%.6f", (d > 0) ? d : 0 }')
    sleep "$left"
    reload_now "$name" && sent=$((sent + 1))
  done
  wait "$load_job" || { stop_reload_server "$name"; return 1; }
  case "$name" in
    lesson07) done_count=$(grep -c -E '^reload-end ' "$server_log" || true) ;;
    *) done_count=$sent ;;
  esac
  check_response "$server_port" >&2 || echo "run: warning: $name answers GET / wrongly after its reloads" >&2
  stop_reload_server "$name"
  read -r rps p99 errors cpu <<<"$(cat "$out")"
  echo "$rps $errors $done_count $sent"
}

run_reloads() {
  local file="$results/reload-runs.tsv" summary="$results/reload-summary.tsv" name mode result round i entry
  printf 'round\tserver\tmode\treq_per_s\terrors\treloads_done\treloads_sent\n' >"$file"
  echo
  echo "reload: GET / while each server (2 workers) is reloaded once a second for ${reload_seconds} s;" \
       "lesson07: $lesson07, pm2 $(node -p 'require(process.argv[1] + "/node_modules/pm2/package.json").version' "$here")"
  local cases=()
  for mode in keep-alive close; do for name in "${reload_servers[@]}"; do cases+=("$name $mode"); done; done
  for ((round = 1; round <= rounds; round++)); do
    for ((i = 0; i < ${#cases[@]}; i++)); do
      read -r name mode <<<"${cases[(i + round - 1) % ${#cases[@]}]}"
      result=$(reload_case "$name" "$mode") || { echo "run: error: the reload run of $name failed" >&2; return 1; }
      read -r rps errors done_count sent <<<"$result"
      printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$mode" "$rps" "$errors" "$done_count" "$sent" >>"$file"
      printf 'round %d  %-9s %-10s %10.0f req/s  %6d failed  %3d of %d reloads done\n' "$round" "$name" "$mode" \
        "$rps" "$errors" "$done_count" "$sent"
    done
  done

  # Medians of req/s; failed requests and reloads summed over the rounds.
  declare -A rps_during errors_during
  printf 'server\tmode\tmedian_req_per_s\tfailed_all_rounds\treloads_done\treloads_sent\n' >"$summary"
  echo
  echo "reload: medians over $rounds round(s), failed requests and reloads over all of them; load average now $(cut -d ' ' -f 1-3 /proc/loadavg)"
  printf '%-10s %-10s %10s %8s %10s\n' server mode "req/s" failed reloads
  for entry in "${cases[@]}"; do
    read -r name mode <<<"$entry"
    rps=$(awk -F '\t' -v s="$name" -v m="$mode" 'NR > 1 && $2 == s && $3 == m { print $4 }' "$file" | sort -g |
          awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    errors=$(reload_sum "$file" "$name" "$mode" 5) done_count=$(reload_sum "$file" "$name" "$mode" 6)
    sent=$(reload_sum "$file" "$name" "$mode" 7)
    rps_during["$name $mode"]=$rps errors_during["$name $mode"]=$errors
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$mode" "$rps" "$errors" "$done_count" "$sent" >>"$summary"
    printf '%-10s %-10s %10.0f %8d %5d/%-4d\n' "$name" "$mode" "$rps" "$errors" "$done_count" "$sent"
  done
  echo
  for mode in keep-alive close; do
    if [ "${errors_during["lesson07 $mode"]}" -eq 0 ]; then verdict=met; else verdict="NOT met"; fi
    printf 'goal: %-58s %8s failed: %s\n' "lesson07 fails no request during reloads, $mode" "${errors_during["lesson07 $mode"]}" "$verdict"
    for peer in pm2 nginx; do
      value=$(reload_ratio "${rps_during["lesson07 $mode"]}" "${rps_during["$peer $mode"]}")
      if awk -v v="$value" 'BEGIN { exit !(v >= 1.0) }'; then verdict=met; else verdict="NOT met"; fi
      printf 'goal: %-58s %7sx (at least 1.0x): %s\n' "lesson07 vs $peer req/s during reloads, $mode" "$value" "$verdict"
    done
  done
  echo "reload runs: $file"
  echo "reload medians: $summary"
}
