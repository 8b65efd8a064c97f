#!/usr/bin/env bash
# Runs every fuzz target of otrace for DURATION each (default 10s), one
# after another, and prints each target's exec count. CI runs it short;
# before a release run it long: bench/fuzz.sh 10m > fuzz.log
#
# Usage: bench/fuzz.sh [DURATION] [PATTERN]
#   PATTERN limits the run to targets whose "package Target" line matches.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10s}"
pattern="${2:-.}"

# Every parser of bytes from outside otrace: ring records, tracefs text,
# replay files, perf.data, ELF/perf-map/kallsyms, CFI and copied stacks,
# /proc text, ETW records, and the filter language scripts pass in.
targets="
./collectors/replay FuzzReplay
./collectors/perfdata FuzzPerfData
./collectors/perf FuzzParseRecord
./collectors/perf FuzzParseDwarfSample
./runtime/event FuzzParseFormat
./runtime/event FuzzFieldDecode
./runtime/filter FuzzCompile
./runtime/filter FuzzGlobAgreesWithPathMatch
./runtime/unwind FuzzCFI
./runtime/unwind FuzzUnwind
./runtime/symbols FuzzELF
./runtime/symbols FuzzPE
./runtime/symbols FuzzPerfMap
./runtime/symbols FuzzKallsyms
./runtime/symbols FuzzKallsymsCache
./collectors/etw FuzzETWRecord
./collectors/procfs FuzzMapsLine
./collectors/procfs FuzzStatLine
./collectors/procfs FuzzReadBuildID
./collectors/tracefs FuzzParseProbeList
./collectors/tracefs FuzzCacheEntries
"

echo "$targets" | grep -v '^$' | grep -E -- "$pattern" | while read -r pkg target; do
	start=$(date +%s)
	log="$(mktemp)"
	if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" \
		-fuzzminimizetime 3s ${FUZZ_PARALLEL:+-parallel "$FUZZ_PARALLEL"} >"$log" 2>&1; then
		cat "$log"
		echo "FAIL $pkg $target"
		exit 1
	fi
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
	printf '%-22s %-30s %ss %s execs\n' "$pkg" "$target" "$(($(date +%s) - start))" "${execs:-?}"
	rm -f "$log"
done
