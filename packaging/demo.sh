#!/usr/bin/env bash
# The main job: what a newcomer sees first. With a display it opens the workbench;
# without one it runs the same steps headless through braingraph-cli.
set -euo pipefail
build="${1:-build}"
cli="$build/app/braingraph-cli"
gui="$build/app/braingraph"

echo "== BrainGraph Workbench demo (data: ${BRAINGRAPH_DATA:-built-in default})"
"$cli" info
echo "== Atlases, ROI counts verified against their files"
"$cli" atlas list

if [ -n "${DISPLAY:-}" ] && [ -x "$gui" ]; then
  echo "== Opening the workbench"
  exec "$gui"
fi
echo "== No display: rendering the workbench's 3D view offscreen (Xvfb) to $build/demo-3d.png"
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "$gui" --quiet --screenshot "$build/demo-3d.png"
  echo "wrote $build/demo-3d.png"
fi
