// Node-RED settings for the benchmark: headless (no editor, no admin API),
// loopback only, the port and user directory from bench/run.sh.
const crypto = require('crypto');
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: parseInt(process.env.NR_PORT || '1880', 10),
    userDir: process.env.NR_USERDIR,
    flowFile: 'flows.json',
    credentialSecret: false,
    disableEditor: true,
    httpAdminRoot: false,
    telemetry: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    // The function node reaches crypto and a random per-run HMAC key through
    // the global context, the long-standing Node-RED way.
    functionGlobalContext: { crypto: crypto, hmacKey: crypto.randomBytes(32) },
};
