#!/usr/bin/env bash
# The demo on a machine without ../shared: it fetches the atlases and a few ABIDE scans from a local
# stand-in for the servers (tests/data/http_mirror.py serving the real data folder under the official
# URL paths), then runs as usual: connectome, models, prediction, a diagnosis PDF, the 3D screenshot.
# Usage: demo_without_shared.sh BUILD_DIR SOURCE_DIR DATA_DIR
set -euo pipefail
build="$1" src="$2" shared="$3"
tmp="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
python3 "$src/tests/data/http_mirror.py" --root "$shared" --manifests "$src/atlases" --dataset "$src/resources/datasets/abide1-pcp.json" \
  >"$tmp/server.out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q '^PORT ' "$tmp/server.out" && break; sleep 0.1; done
port="$(awk '/^PORT /{print $2}' "$tmp/server.out")"
[ -n "$port" ] || { echo "the mirror did not start: $(cat "$tmp/server.out")"; exit 1; }
mkdir -p "$tmp/build"
ln -s "$build/app" "$tmp/build/app"

# No display, no ../shared, no answer to give: without --yes the demo must stop before downloading.
if env -u DISPLAY BRAINGRAPH_DATA="$tmp/no-shared" XDG_DATA_HOME="$tmp/xdg" XDG_CONFIG_HOME="$tmp/config" bash "$src/packaging/demo.sh" "$tmp/build" </dev/null >"$tmp/refused.log" 2>&1; then
  echo "FAIL: the demo went on without data and without --yes"; cat "$tmp/refused.log"; exit 1
fi
grep -q -- "--yes" "$tmp/refused.log" || { echo "FAIL: no hint to use --yes"; cat "$tmp/refused.log"; exit 1; }
[ ! -e "$tmp/xdg/braingraph/data" ] || { echo "FAIL: something was downloaded without consent"; exit 1; }

start=$(date +%s)
if ! env -u DISPLAY BRAINGRAPH_DATA="$tmp/no-shared" XDG_DATA_HOME="$tmp/xdg" XDG_CONFIG_HOME="$tmp/config" BRAINGRAPH_DATA_MIRROR="http://127.0.0.1:$port" \
     BRAINGRAPH_DEMO_MAX_SCANS=45 bash "$src/packaging/demo.sh" "$tmp/build" --yes </dev/null >"$tmp/demo.log" 2>&1; then
  echo "FAIL: the demo failed"; tail -40 "$tmp/demo.log"; exit 1
fi
echo "demo without ../shared: $(( $(date +%s) - start )) s"
fail() { echo "FAIL: $1"; tail -60 "$tmp/demo.log"; exit 1; }
grep -q "fetched .* file(s)" "$tmp/demo.log" || fail "nothing was fetched"
grep -q "imported 45 scan(s)" "$tmp/demo.log" || fail "the 45 fetched scans were not imported"
[ "$(ls "$tmp/xdg/braingraph/data/data/abide1-cc200/rois_cc200" | wc -l)" -eq 45 ] || fail "not 45 series in the user data folder"
# Every atlas verified from the fetched folder alone (CC200 comes with the ABIDE data).
grep -Eq "^cc200 .* ok" "$tmp/demo.log" || grep -Eq "cc200.*200.*ok" "$tmp/demo.log" || fail "CC200 not verified by atlas list"
for pdf in demo-report.pdf demo-report-braingfm.pdf; do
  [ -s "$tmp/build/$pdf" ] || fail "no $pdf"
  # The report the demo announced (its id and probability) is the one in the PDF.
  id="$(grep -o "wrote $tmp/build/$pdf (report BGR-[0-9a-f-]*" "$tmp/demo.log" | grep -o 'BGR-[0-9a-f-]*')"
  p="$(grep "^report $id:" "$tmp/demo.log" | grep -o 'p(autism) = [0-9.]*' | grep -o '[0-9.]*$')"
  [ -n "$id" ] && [ -n "$p" ] || fail "no report id or probability for $pdf in the demo's output"
  pdftotext "$tmp/build/$pdf" - >"$tmp/$pdf.txt"
  grep -q "$id" "$tmp/$pdf.txt" || fail "$pdf is not report $id"
  grep -q "$p" "$tmp/$pdf.txt" || fail "$pdf does not show p(autism) = $p"
done
if command -v xvfb-run >/dev/null; then
  [ -s "$tmp/build/demo-3d.png" ] || fail "no 3D screenshot"
  [ -s "$tmp/build/demo-workbench.png" ] || fail "no workbench screenshot"
fi
echo "ok"
