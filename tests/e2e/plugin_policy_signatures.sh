#!/usr/bin/env bash
# policy_signatures.sh with fairgate inside mosquitto: unsigned, half-signed,
# tampered, foreign-key and expired policies never take effect; raw inputs are
# refused while no valid policy is in force; the audit log records it all.
FAIRGATE_MODE=plugin exec bash "$(dirname "$0")/policy_signatures.sh"
