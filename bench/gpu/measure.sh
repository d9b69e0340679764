# Sourced by bench/gpu/run-*.sh: `measure NAME COMMAND...` runs one configuration in its own process while nvidia-smi
# samples the GPU's used memory every 100 ms, so ours and the Python baseline are measured the same way. Appends the
# command's last JSON line plus config, exit_code, nvidia_smi_peak_gib and wall_s to $results; the command's stdout and
# stderr go to $log. The caller sets results and log.
measure() { # name, command...
  local name=$1; shift
  local samples; samples=$(mktemp)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$samples" &
  local sampler=$!
  local start=$SECONDS
  "$@" > "$samples.stdout" 2>> "$log"; local rc=$?
  kill $sampler 2>/dev/null; wait $sampler 2>/dev/null
  local peak; peak=$(sort -n "$samples" | tail -1)
  cat "$samples.stdout" >> "$log"
  local json; json=$(grep '^{' "$samples.stdout" | tail -1)
  [ -n "$json" ] || json='{}'
  python3 - "$name" "$rc" "${peak:-0}" "$((SECONDS-start))" "$json" >> "$results" <<'PY'
import json, sys
name, rc, peak, wall, line = sys.argv[1:6]
r = json.loads(line); r.update(config=name, exit_code=int(rc), nvidia_smi_peak_gib=round(int(peak) / 1024, 2), wall_s=int(wall))
print(json.dumps(r))
PY
  tail -1 "$results"
}
