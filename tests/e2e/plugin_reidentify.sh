#!/usr/bin/env bash
# reidentify.sh with fairgate inside mosquitto: the same sealed tables, the
# same works council key, the same audit log.
FAIRGATE_MODE=plugin exec bash "$(dirname "$0")/reidentify.sh"
