# Helpers for the load e2e tests (source after common.sh).
MKCAP="$ROOT/tests/lib/mkcapture_load.py"
ORIGIN="$ROOT/tests/lib/load_origin.py"
REPLAY="$BIN/tapedeck-replay"

# Under ASan everything runs slower: timing bounds get wider, rates lower; behaviour asserted is the same.
ASAN=${TAPEDECK_ASAN:-}

# mk_capture OUT COUNT INTERVAL_US CONNS [PATH_PY_EXPR]: a capture of COUNT GETs, one every INTERVAL_US,
# spread over CONNS recorded connections. PATH_PY_EXPR (python, i = index) names each path.
mk_capture() {
  local out=$1 n=$2 iv=$3 conns=$4 path=${5:-"'/api/trips/%d' % i"}
  python3 -c "
import json
print(json.dumps([{'path': $path, 'conn': i % $conns, 't_us': i * $iv} for i in range($n)]))" | "$MKCAP" "$out"
}

# start_origin PORT [ARGS...]: the python origin, waited for.
start_origin() {
  local port=$1; shift
  td_spawn python3 "$ORIGIN" "$port" "$@"
  td_wait_port "$port"
}

# jq-less JSON reads: json_get FILE PYEXPR (r is the parsed report)
json_get() {
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"
}
