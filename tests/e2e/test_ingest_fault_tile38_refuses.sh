#!/usr/bin/env bash
# Fault: Tile38 answers an error to the SETs of one flight (a proxy in front of the
# real server turns their latitude into "bad", so Tile38 itself replies
# "invalid argument 'bad'"). Those records go to the DLQ with Tile38's reason, the
# batch is neither retried nor paused, every other flight is at its latest position,
# and PostgreSQL has every row (the refused flight's too): 0 lost, 0 duplicates.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingest_fault.sh"
sky_need_stack kafka tile38 pg

sky_ingest_fault tile38_refuses
