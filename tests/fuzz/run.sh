#!/bin/bash
# Run libFuzzer harnesses: run.sh BINDIR SECONDS NAME...
# SECONDS > 0: fuzz each NAME for that long, starting from its seed corpus
# (tests/fuzz/corpus/NAME) and its kept crashes (tests/fuzz/regressions/NAME),
# which libFuzzer replays first; new inputs go to BINDIR/../corpus/NAME,
# crashes to BINDIR/../artifacts/NAME-*.
# SECONDS = 0: only replay the seeds and the kept crashes once each.
# FUZZ_JOBS harnesses run at a time (default 2). Each gets a scratch
# directory (HM_FUZZ_TMP, on /dev/shm when there is one) removed after it.
# Prints one summary line per harness; exits 1 if any harness failed
# (a crash, a sanitizer report, a failed CHECK, a timeout or OOM).
set -u
bindir=$1 secs=$2
shift 2
jobs=${FUZZ_JOBS:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$bindir/.." && pwd)
mkdir -p "$work/corpus" "$work/artifacts" "$work/logs"
shm=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=/dev/shm

one() {
	local name=$1 bin="$bindir/$1" log="$work/logs/$1.log" sum="$work/logs/$1.sum"
	local seeds="$here/corpus/$1" regress="$here/regressions/$1" tmp rc
	local dirs=() files=() opts
	[ -d "$seeds" ] && dirs+=("$seeds")
	[ -d "$regress" ] && dirs+=("$regress")
	opts=(-timeout=10 -rss_limit_mb=2560 -artifact_prefix="$work/artifacts/$name-")
	case $name in
		fuzz_smtp_cmd|fuzz_smtp_session|fuzz_addr) opts+=(-dict="$here/smtp.dict") ;;
		fuzz_http_parse) opts+=(-dict="$here/http.dict") ;;
	esac
	case $name in
		fuzz_smtp_session|fuzz_acc_http|fuzz_http_parse) opts+=(-max_len=16384) ;;
		fuzz_envelope|fuzz_config|fuzz_header_from|fuzz_dkim_sign) opts+=(-max_len=8192) ;;
		*) opts+=(-max_len=4096) ;;
	esac
	tmp=$(mktemp -d "$shm/hostmail-fuzz-$name.XXXXXX") || return 1
	export HM_FUZZ_TMP=$tmp
	if [ "$secs" = 0 ]; then
		for d in "${dirs[@]}"; do
			while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -type f -print0)
		done
		if [ ${#files[@]} -eq 0 ]; then
			echo "fuzz-regress $name: no inputs" >"$sum"
			rc=0
		elif "$bin" "${opts[@]}" "${files[@]}" >"$log" 2>&1; then
			echo "fuzz-regress $name: ${#files[@]} inputs ok" >"$sum"
			rc=0
		else
			{ echo "fuzz-regress $name: FAILED (see $log)"
			  grep -m1 -A25 -e 'ERROR: ' -e 'runtime error' -e 'CHECK failed' "$log"; } >"$sum"
			rc=1
		fi
	else
		mkdir -p "$work/corpus/$name"
		if "$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
			"$work/corpus/$name" "${dirs[@]}" >"$log" 2>&1; then
			local runs rate cov ft corp
			runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
			rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
			cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
			ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1)
			corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1)
			echo "fuzz $name: ok, $runs runs in ${secs}s ($rate/s), $cov, $ft, $corp" >"$sum"
			rc=0
		else
			{ echo "fuzz $name: CRASH (log $log; input in $work/artifacts/$name-*)"
			  grep -m1 -A30 -e 'ERROR: ' -e 'runtime error' -e 'CHECK failed' "$log"; } >"$sum"
			rc=1
		fi
	fi
	rm -rf "$tmp"
	cat "$sum"
	return $rc
}

fail=0
pids=()
for name in "$@"; do
	if [ ! -x "$bindir/$name" ]; then
		echo "fuzz $name: no binary $bindir/$name"
		fail=1
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	one "$name" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail=1
done
exit $fail
