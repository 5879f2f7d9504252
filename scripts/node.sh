#!/bin/sh
# Runs node (22 or newer, installed on demand) with the given arguments; the npm scripts use it
# so that `npm start` and `npm test` work on a machine whose node is older.
set -e
# shellcheck source=ensure-node.sh source-path=SCRIPTDIR
. "$(dirname "$0")/ensure-node.sh"
exec node "$@"
