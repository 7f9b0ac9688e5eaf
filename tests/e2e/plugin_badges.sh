#!/usr/bin/env bash
# gateway_badges.sh with fairgate inside mosquitto: the same privacy checks on
# what reaches the upstream broker through mosquitto's bridge.
FAIRGATE_MODE=plugin exec bash "$(dirname "$0")/gateway_badges.sh"
