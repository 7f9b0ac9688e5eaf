#!/usr/bin/env bash
# policy_factory.sh with fairgate inside mosquitto: aggregation windows (closed
# on MOSQ_EVT_TICK), min_group and secondary suppression, generalisation.
FAIRGATE_MODE=plugin exec bash "$(dirname "$0")/policy_factory.sh"
